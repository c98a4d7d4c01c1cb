import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type LeaseTiming, sweepDecision } from './domain/lease.ts';
import { countInstances, markDown, removeInstance, sweepCandidates } from './store/instances.ts';

/** Every `sweepMs`, evicts instances whose lease ran out and removes those gone long enough. */
export function startSweeper(options: {
  db: pg.Pool;
  log: Logger;
  timing: LeaseTiming & { sweepMs: number };
  now: () => number;
  metrics: Registry;
}): { stop(): void } {
  const { db, log, timing, now } = options;
  const evictions = new Counter({
    name: 'bazaar_registry_evictions_total',
    help: 'Instances marked down because their lease ran out',
    labelNames: ['service'],
    registers: [options.metrics],
  });
  const instances = new Gauge({
    name: 'bazaar_registry_instances',
    help: 'Registered instances by service and status',
    labelNames: ['service', 'status'],
    registers: [options.metrics],
  });
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      const at = now();
      for (const candidate of await sweepCandidates(db, at)) {
        const decision = sweepDecision(candidate, at, timing);
        if (decision === 'mark-down') {
          const service = await markDown(db, candidate.id, at);
          if (service) {
            evictions.inc({ service });
            log.warn({ instanceId: candidate.id, service }, 'lease expired: instance evicted');
          }
        } else if (decision === 'remove') {
          await removeInstance(db, candidate.id, candidate.status);
        }
      }
      instances.reset();
      for (const row of await countInstances(db))
        instances.set({ service: row.service, status: row.status }, row.count);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'sweep failed; next one in a moment');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), timing.sweepMs);
  return { stop: () => clearInterval(timer) };
}
