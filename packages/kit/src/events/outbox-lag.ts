import type pg from 'pg';
import type { Registry } from 'prom-client';
import { scrapeTimeGauge } from '../metrics.ts';

/**
 * `bazaar_outbox_lag_seconds`, read at scrape time: how long the oldest unsent outbox row has
 * waited (0 when none waits). Every instance of a service reports the same table; read it as max
 * by service. The unsent-rows index makes the read one index probe.
 */
export function observeOutboxLag(pool: pg.Pool, registry: Registry): void {
  scrapeTimeGauge(registry, {
    name: 'bazaar_outbox_lag_seconds',
    help: 'Age of the oldest event in the outbox not yet published to the bus (0 when none waits)',
    read: () => outboxLagSeconds(pool),
  });
}

/** Seconds the oldest unsent outbox row has waited, 0 when there is none. */
export async function outboxLagSeconds(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ age: number }>(
    `SELECT EXTRACT(EPOCH FROM now() - created_at)::float8 AS age
       FROM kit_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1`,
  );
  return Math.max(0, rows[0]?.age ?? 0);
}
