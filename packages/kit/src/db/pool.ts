import pg from 'pg';
import type { Logger } from 'pino';

/** A connection pool to the service's own database. */
export function createPool(options: { url: string; max: number; application: string; log: Logger }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    application_name: options.application,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A query that outlives any request deadline is abandoned by the server, not left running.
    statement_timeout: 30_000,
  });
  // An idle client losing its connection (database restarted) must not crash the process.
  pool.on('error', (err) => options.log.warn({ err: err.message }, 'database connection lost'));
  return pool;
}

/** Whether the database answers within `timeoutMs`. */
export async function databaseReachable(pool: pg.Pool, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
