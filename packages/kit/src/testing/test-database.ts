import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
