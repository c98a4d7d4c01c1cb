import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { Logger } from 'pino';

const MIGRATION_FILE = /^(\d+)[_-].+\.sql$/;

/** A numbered SQL file of a service. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads `NNN_name.sql` files from `folder`, in order; two files with one number are an error. */
export async function readMigrations(folder: URL): Promise<Migration[]> {
  const files = (await readdir(folder)).filter((f) => MIGRATION_FILE.test(f)).sort();
  const migrations: Migration[] = [];
  for (const name of files) {
    const version = Number(MIGRATION_FILE.exec(name)![1]);
    if (migrations.some((m) => m.version === version)) {
      throw new Error(`two migrations are numbered ${version} in ${folder.pathname}`);
    }
    const sql = await readFile(new URL(name, folder), 'utf8');
    migrations.push({ version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/**
 * Applies the migrations not yet applied, each in its own transaction, holding a session advisory
 * lock so that replicas starting together apply each one once; then runs `afterMigrate` (the seed)
 * under the same lock. A changed checksum of an applied migration stops the start.
 */
export async function migrate(
  pool: pg.Pool,
  options: {
    service: string;
    migrations: Migration[];
    log: Logger;
    afterMigrate?: (client: pg.PoolClient) => Promise<void>;
    /** Where applied versions are recorded (the kit's own tables keep theirs apart). */
    table?: 'schema_migrations' | 'kit_schema_migrations';
  },
): Promise<{ applied: string[] }> {
  const client = await pool.connect();
  const table = options.table ?? 'schema_migrations';
  const lockKey = `bazaar:migrate:${options.service}:${table}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number; checksum: string; name: string }>(
      `SELECT version, name, checksum FROM ${table}`,
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    const applied: string[] = [];
    for (const m of options.migrations) {
      const previous = done.get(m.version);
      if (previous) {
        if (previous.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} changed after it was applied (was ${previous.name})`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
      options.log.info({ migration: m.name }, 'migration applied');
    }
    if (options.afterMigrate) await options.afterMigrate(client);
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    client.release();
  }
}

/** The kit's own tables (outbox, inbox, dead letters), applied before a service's migrations. */
export function kitMigrations(): Promise<Migration[]> {
  return readMigrations(new URL('../../migrations/', import.meta.url));
}

/** Applies the kit's tables, then `service`'s migrations, to `pool` (start-up and tests). */
export async function migrateService(
  pool: pg.Pool,
  options: {
    service: string;
    migrations: Migration[];
    log: Logger;
    afterMigrate?: (client: pg.PoolClient) => Promise<void>;
  },
): Promise<void> {
  await migrate(pool, {
    service: options.service,
    migrations: await kitMigrations(),
    log: options.log,
    table: 'kit_schema_migrations',
  });
  await migrate(pool, options);
}
