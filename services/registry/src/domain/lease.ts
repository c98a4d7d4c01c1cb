import type { InstanceStatus } from '@bazaar/contracts';

/** The registry's timing: heartbeat period (told to clients), lease, sweep period, how long `down` is listed. */
export interface LeaseTiming {
  leaseMs: number;
  downRetentionMs: number;
}

/** What the sweep needs to know of an instance. */
export interface LeaseState {
  status: InstanceStatus;
  leaseExpiresAt: number;
  downAt: number | null;
}

/** What the sweep does with an instance. */
export type SweepDecision = 'keep' | 'mark-down' | 'remove';

/** When a lease granted at `now` runs out. */
export function leaseUntil(now: number, timing: LeaseTiming): number {
  return now + timing.leaseMs;
}

/**
 * The sweep's rule: an `up` instance whose lease ran out goes `down` (evicted: no more traffic);
 * a `down` one is removed after `downRetentionMs`; a `draining` one, which left on purpose, is
 * removed as soon as its lease runs out.
 */
export function sweepDecision(instance: LeaseState, now: number, timing: LeaseTiming): SweepDecision {
  switch (instance.status) {
    case 'up':
      return instance.leaseExpiresAt < now ? 'mark-down' : 'keep';
    case 'draining':
      return instance.leaseExpiresAt < now ? 'remove' : 'keep';
    case 'down':
      return (instance.downAt ?? instance.leaseExpiresAt) + timing.downRetentionMs < now ? 'remove' : 'keep';
  }
}

/** Whether a heartbeat renews the lease: an instance already evicted must register again (404). */
export function acceptsHeartbeat(status: InstanceStatus): boolean {
  return status !== 'down';
}
