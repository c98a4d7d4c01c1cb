import { type Clock, systemClock } from '../time.ts';
import type { Balancer, Endpoint } from './balancer.ts';

/** Options of the power-of-two-choices balancer. */
export interface P2cEwmaOptions {
  /** A source of numbers in [0, 1). */
  random?: () => number;
  /** Latency assumed for an instance with no sample when no candidate has one either. */
  defaultMs?: number;
  /** Time source for read-time decay. */
  clock?: Clock;
  /** How fast a latency average that gets no new samples fades (the same decay as `updateEwma`). */
  decayMs?: number;
}

/**
 * Power of two choices: picks two distinct candidates at random and keeps the cheaper, where
 * `cost = ewmaMs × (inflight + 1)`. This avoids slow and busy instances without the herd effect of
 * always choosing the single best one.
 */
export function createP2cEwma<E extends Endpoint = Endpoint>({
  random = Math.random,
  defaultMs = 1,
  clock = systemClock,
  decayMs = 10_000,
}: P2cEwmaOptions = {}): Balancer<E> {
  const index = (n: number) => Math.min(n - 1, Math.floor(random() * n));
  return {
    pick(candidates) {
      const n = candidates.length;
      if (n <= 1) return candidates[0];
      const i = index(n);
      let j = index(n - 1);
      if (j >= i) j++;
      const a = candidates[i]!;
      const b = candidates[j]!;
      const neutral = neutralLatency(a, b, candidates, defaultMs);
      const now = clock.now();
      return cost(b, neutral, now, decayMs) < cost(a, neutral, now, decayMs) ? b : a;
    },
  };
}

/**
 * `latency × (inflight + 1)`, where the latency of an instance that has had no sample for a while
 * fades toward zero as it is read (Finagle's peak EWMA): an instance that answered slowly once,
 * say while warming up, is tried again instead of being shunned for good.
 */
function cost(e: Endpoint, neutralMs: number, now: number, decayMs: number): number {
  let latency = e.ewmaMs > 0 ? e.ewmaMs : neutralMs;
  if (e.ewmaMs > 0 && e.lastSampleAt !== undefined && now > e.lastSampleAt) {
    latency *= Math.exp(-(now - e.lastSampleAt) / decayMs);
  }
  return latency * (e.inflight + 1);
}

/**
 * The latency assumed for an instance without samples: the mean of the candidates that have one,
 * so a new instance is neither shunned (it must get traffic to earn a sample) nor flooded.
 */
function neutralLatency(
  a: Endpoint,
  b: Endpoint,
  candidates: readonly Endpoint[],
  defaultMs: number,
): number {
  if (a.ewmaMs > 0 && b.ewmaMs > 0) return defaultMs; // unused: both have data
  let sum = 0;
  let known = 0;
  for (const c of candidates) {
    if (c.ewmaMs > 0) {
      sum += c.ewmaMs;
      known++;
    }
  }
  return known > 0 ? sum / known : defaultMs;
}
