import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import pg from 'pg';

/** A throwaway database with catalog's migrations applied; `drop()` removes it. */
export interface TestDatabase {
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * Creates `catalog_test_<random>` on the server of `BAZAAR_TEST_PG_URL` and applies the migration
 * files directly (no kit). Without that variable it skips `t` loudly and answers undefined; with
 * `CI=true` it fails instead, as a missing tool must in CI.
 */
export async function createTestDatabase(t: TestContext): Promise<TestDatabase | undefined> {
  const adminUrl = process.env.BAZAAR_TEST_PG_URL;
  if (!adminUrl) {
    const message = `!!! SKIPPED: BAZAAR_TEST_PG_URL is not set, so "${t.name}" did NOT run against PostgreSQL`;
    console.warn(`\n${message}\n`);
    if (process.env.CI === 'true') throw new Error(message);
    t.skip(message);
    return undefined;
  }
  const name = `catalog_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  const drop = async () => {
    // DROP ... WITH (FORCE) may still find a backend the pool is closing; its error is expected.
    pool.on('error', () => {});
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
  try {
    const folder = new URL('../../migrations/', import.meta.url);
    for (const file of (await readdir(folder)).filter((f) => f.endsWith('.sql')).sort()) {
      await pool.query(await readFile(new URL(file, folder), 'utf8'));
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { pool, drop };
}
