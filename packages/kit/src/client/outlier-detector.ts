import { type Clock, systemClock } from '../time.ts';

/** Why an instance was taken out of rotation. */
export type EjectionReason = 'consecutive-failures' | 'connection-refused' | 'connection-reset';

/** Tracks the health of one target service's instances and takes misbehaving ones out of rotation. */
export interface OutlierDetector {
  /** An attempt on `id` succeeded: its run of failures ends. */
  recordSuccess(id: string): void;
  /** An attempt on `id` failed; the Nth failure in a row ejects it. Returns whether it was ejected now. */
  recordFailure(id: string): boolean;
  /** Ejects `id` at once (passive ejection: the kernel refused or reset the connection). Returns whether it was. */
  ejectNow(id: string, reason: EjectionReason): boolean;
  /** Whether `id` is out of rotation; an ejection that has run out ends here, firing `onReturn`. */
  isEjected(id: string): boolean;
  /** Sets the instances of the target; instances no longer in it are forgotten. */
  setPool(ids: readonly string[]): void;
  /** The instances out of rotation now. */
  ejected(): string[];
}

/** Options of `createOutlierDetector`. */
export interface OutlierDetectorOptions {
  /** Failures in a row that eject an instance. */
  consecutiveFailures?: number;
  /** Length of a first ejection; the nth ejection lasts n times as long. */
  baseEjectionMs?: number;
  /** No ejection lasts longer than this. */
  maxEjectionMs?: number;
  /** Largest share of the pool (in %) that may be out of rotation at once. */
  maxEjectionPercent?: number;
  clock?: Clock;
  /** Called when an instance is ejected, with when its ejection ends. */
  onEject?: (id: string, reason: EjectionReason, untilMs: number) => void;
  /** Called when an ejection has ended and the instance is back in rotation. */
  onReturn?: (id: string) => void;
}

interface Health {
  failures: number;
  /** Ejections that still count towards the next one's length (see `timesEjected` below). */
  timesEjected: number;
  /** End of the current ejection; 0 when in rotation. */
  ejectedUntil: number;
  /** When the instance last came back into rotation. */
  returnedAt: number;
}

/**
 * Creates an outlier detector in the manner of Envoy's: N consecutive failures, or one refused or
 * reset connection, eject an instance for `baseEjectionMs × timesEjected` (capped at `maxEjectionMs`),
 * unless that would leave more than `maxEjectionPercent` of the pool ejected (a pool of two may lose
 * one; a pool of one never loses its instance).
 *
 * `timesEjected` forgives: for each full `baseEjectionMs` an instance stays in rotation after
 * returning, it drops by one. An instance that fails again right after returning is out twice as
 * long; one that has been fine for a few minutes starts again at the base length.
 *
 * Instances named by `record*` or `ejectNow` join the pool until the next `setPool`.
 */
export function createOutlierDetector({
  consecutiveFailures = 5,
  baseEjectionMs = 30_000,
  maxEjectionMs = 300_000,
  maxEjectionPercent = 50,
  clock = systemClock,
  onEject,
  onReturn,
}: OutlierDetectorOptions = {}): OutlierDetector {
  const pool = new Map<string, Health>();

  const health = (id: string): Health => {
    let h = pool.get(id);
    if (!h) {
      h = { failures: 0, timesEjected: 0, ejectedUntil: 0, returnedAt: 0 };
      pool.set(id, h);
    }
    return h;
  };

  /** Ends a lapsed ejection; returns whether `h` is still ejected. */
  const stillEjected = (id: string, h: Health, now: number): boolean => {
    if (h.ejectedUntil === 0) return false;
    if (now < h.ejectedUntil) return true;
    h.ejectedUntil = 0;
    h.returnedAt = now;
    h.failures = 0;
    onReturn?.(id);
    return false;
  };

  const tryEject = (id: string, h: Health, reason: EjectionReason): boolean => {
    const now = clock.now();
    if (stillEjected(id, h, now)) return false;
    let out = 0;
    for (const [otherId, other] of pool) if (stillEjected(otherId, other, now)) out++;
    if (((out + 1) / pool.size) * 100 > maxEjectionPercent) return false;
    const forgiven = h.timesEjected > 0 ? Math.floor((now - h.returnedAt) / baseEjectionMs) : 0;
    h.timesEjected = Math.max(0, h.timesEjected - forgiven) + 1;
    h.ejectedUntil = now + Math.min(maxEjectionMs, baseEjectionMs * h.timesEjected);
    h.failures = 0;
    onEject?.(id, reason, h.ejectedUntil);
    return true;
  };

  return {
    recordSuccess(id) {
      health(id).failures = 0;
    },
    recordFailure(id) {
      const h = health(id);
      h.failures++;
      // Below the threshold, or refused by the max-percent rule: the run goes on, and the next failure tries again.
      return h.failures >= consecutiveFailures && tryEject(id, h, 'consecutive-failures');
    },
    ejectNow(id, reason) {
      return tryEject(id, health(id), reason);
    },
    isEjected(id) {
      const h = pool.get(id);
      return h !== undefined && stillEjected(id, h, clock.now());
    },
    setPool(ids) {
      const keep = new Set(ids);
      for (const id of pool.keys()) if (!keep.has(id)) pool.delete(id);
      for (const id of ids) health(id);
    },
    ejected() {
      const now = clock.now();
      return [...pool].filter(([id, h]) => stillEjected(id, h, now)).map(([id]) => id);
    },
  };
}
