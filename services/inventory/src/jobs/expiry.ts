import type { Clock } from '@bazaar/kit';
import type { Logger } from 'pino';
import type { InventoryMetrics } from '../metrics.ts';
import { expireDueReservations } from '../store/reservations.ts';
import type { StoreDeps } from '../store/stock.ts';

/**
 * The expiry job: every `everyMs`, gives back the stock of reservations whose time is up (status
 * EXPIRED, event `inventory.reservation-expired`). Safe to run on every instance at once: each
 * reservation is taken under `FOR UPDATE SKIP LOCKED`. A round that finds a full batch goes on at
 * once, so a backlog drains without waiting for the next tick.
 */
export function startExpiry(options: {
  deps: StoreDeps;
  clock: Clock;
  log: Logger;
  metrics: InventoryMetrics;
  everyMs: number;
  batch?: number;
}): { stop(): Promise<void> } {
  const batch = options.batch ?? 100;
  let stopped = false;
  let round: Promise<void> | undefined;

  const run = async () => {
    try {
      let expired: string[];
      do {
        expired = await expireDueReservations(options.deps, new Date(options.clock.now()), batch);
        if (expired.length > 0) {
          options.metrics.expired.inc({ by: 'job' }, expired.length);
          options.log.info({ count: expired.length }, 'reservations expired');
        }
      } while (expired.length === batch && !stopped);
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'expiring reservations failed; trying again later');
    }
  };

  const timer = setInterval(() => {
    // One round at a time per instance: a slow round makes the next ticks skip, not pile up.
    if (round || stopped) return;
    round = run().finally(() => {
      round = undefined;
    });
  }, options.everyMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      // Let a round in flight finish before the pool closes under it.
      await round;
    },
  };
}
