import { Counter, type Registry } from 'prom-client';

/** What became of a heartbeat: the lease renewed, the instance unknown (register again), or refused. */
export type HeartbeatOutcome = 'renewed' | 'unknown' | 'refused';

/**
 * `bazaar_registry_heartbeats_total{outcome}`. Every outcome is reported from 0, so a registry
 * that hears nothing shows a flat counter (what the "registry without heartbeats" alert reads)
 * rather than no series at all.
 */
export function heartbeatCounter(registry: Registry): Counter<'outcome'> {
  const counter = new Counter({
    name: 'bazaar_registry_heartbeats_total',
    help: 'Heartbeats received, by outcome (renewed, unknown, refused)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['renewed', 'unknown', 'refused'] satisfies HeartbeatOutcome[])
    counter.inc({ outcome }, 0);
  return counter;
}
