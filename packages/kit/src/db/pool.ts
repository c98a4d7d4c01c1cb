import pg from 'pg';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { PreparingClient } from './prepared.ts';

/** What `createPool` needs. */
export interface PoolOptions {
  url: string;
  max: number;
  application: string;
  log: Logger;
  /** Queries with parameters as named prepared statements (default on; see `prepared.ts`). */
  prepare?: boolean;
}

/** A connection pool to the service's own database. */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...(options.prepare === false ? {} : { Client: PreparingClient }),
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

const observed = new WeakMap<Registry, Map<string, pg.Pool>>();

/**
 * Reports a pool's use at scrape time on `registry`, under `name` (the service's `main` pool, or
 * another it keeps): connections in use and idle, the most it may open, and queries waiting for one.
 */
export function observePool(pool: pg.Pool, registry: Registry, name: string): void {
  let pools = observed.get(registry);
  if (!pools) {
    pools = new Map();
    observed.set(registry, pools);
    const all = pools;
    new Gauge({
      name: 'bazaar_db_pool_connections',
      help: 'Database connections of a pool, by pool and state (used, idle)',
      labelNames: ['pool', 'state'],
      registers: [registry],
      collect() {
        for (const [label, p] of all) {
          this.set({ pool: label, state: 'used' }, p.totalCount - p.idleCount);
          this.set({ pool: label, state: 'idle' }, p.idleCount);
        }
      },
    });
    new Gauge({
      name: 'bazaar_db_pool_max_connections',
      help: 'The most connections a pool opens, by pool',
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [label, p] of all) this.set({ pool: label }, p.options.max ?? 10);
      },
    });
    new Gauge({
      name: 'bazaar_db_pool_waiting',
      help: 'Queries waiting for a free connection, by pool',
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [label, p] of all) this.set({ pool: label }, p.waitingCount);
      },
    });
  }
  pools.set(name, pool);
}
