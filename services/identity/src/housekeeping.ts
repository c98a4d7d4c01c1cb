import type { Clock } from '@bazaar/kit';
import type { Logger } from 'pino';
import type { Queryable } from './store/db.ts';
import { pruneRevocations } from './store/revocations.ts';
import { deleteExpiredSessions } from './store/sessions.ts';
import type { KeyRing } from './tokens/key-ring.ts';

/**
 * Background upkeep: carries out the key schedule even when no token is signed (a successor is
 * published on time, retired keys leave the JWKS), and deletes revocations and sessions nothing can
 * need any more.
 */
export function startHousekeeping(options: {
  keys: KeyRing;
  db: Queryable;
  clock: Clock;
  log: Logger;
  everyMs?: number;
  pruneEvery?: number;
}): { stop(): void } {
  const pruneEvery = options.pruneEvery ?? 10;
  let round = 0;
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await options.keys.maintain();
      if (round++ % pruneEvery === 0) {
        const now = new Date(options.clock.now());
        const revocations = await pruneRevocations(options.db, now);
        const sessions = await deleteExpiredSessions(options.db, now);
        if (revocations + sessions > 0)
          options.log.debug({ revocations, sessions }, 'expired entries deleted');
      }
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'housekeeping failed; trying again later');
    } finally {
      running = false;
    }
  }, options.everyMs ?? 30_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
