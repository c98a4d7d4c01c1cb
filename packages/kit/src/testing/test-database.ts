import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { migrateService, readMigrations } from '../db/migrate.ts';
import { PreparingClient } from '../db/prepared.ts';

/** A database made for one test file, dropped at the end. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database on the server of `BAZAAR_TEST_PG_URL` (the machine's PostgreSQL
 * in CI, or the embedded cluster the test run started).
 */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const admin = process.env.BAZAAR_TEST_PG_URL;
  if (!admin)
    throw new Error('BAZAAR_TEST_PG_URL is not set: run tests through npm test, which provides one');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A test database with the kit's tables and a service's migrations applied, and a pool on it. */
export interface ServiceTestDatabase extends TestDatabase {
  pool: pg.Pool;
}

/**
 * `createTestDatabase(prefix)`, then the kit's tables and the migrations in `folder` (no seed), and a
 * small pool; `drop()` closes the pool and drops the database.
 */
export async function createServiceDatabase(prefix: string, folder: URL): Promise<ServiceTestDatabase> {
  const database = await createTestDatabase(prefix);
  // Named prepared statements, as a service's own pool sends them.
  const pool = new pg.Pool({ connectionString: database.url, max: 4, Client: PreparingClient });
  pool.on('error', () => {});
  const drop = async () => {
    await pool.end().catch(() => undefined);
    await database.drop();
  };
  try {
    await migrateService(pool, {
      service: prefix,
      migrations: await readMigrations(folder),
      log: pino({ level: 'silent' }),
    });
  } catch (err) {
    await drop();
    throw err;
  }
  return { ...database, pool, drop };
}
