import { type Clock, systemClock } from '../time.ts';

/** Limits retries to a share of recent requests, so retries cannot multiply the load of an outage. */
export interface RetryBudget {
  /** Counts an original request (not a retry); each one pays `ratio` of a retry. */
  recordRequest(): void;
  /** Takes one retry from the budget; false (and counted in `refused`) when none is left. */
  tryWithdraw(): boolean;
  /** Retries refused since the budget was made. */
  readonly refused: number;
}

/** Options of `createRetryBudget`. */
export interface RetryBudgetOptions {
  /** Retries allowed per original request in the window (0.2 = 20 %). */
  ratio?: number;
  /** Retries per second allowed whatever the traffic, so a quiet client can still retry. */
  minPerSecond?: number;
  /** How long deposits and withdrawals count. */
  ttlMs?: number;
  clock?: Clock;
  /** Called on each refused retry. */
  onRefused?: () => void;
}

const BUCKETS = 10;

interface Bucket {
  /** Which ttl/10 slice of time this bucket holds; stale when it falls out of the window. */
  slice: number;
  requests: number;
  retries: number;
}

/**
 * Creates a retry budget in the manner of Finagle's: within the last `ttlMs`, retries may number
 * `minPerSecond × ttl/1000 + ratio × requests`. Counts live in ten buckets of ttl/10, so a deposit
 * expires between 0.9 × ttl and ttl after it was made; a withdrawal expires the same way.
 */
export function createRetryBudget({
  ratio = 0.2,
  minPerSecond = 10,
  ttlMs = 10_000,
  clock = systemClock,
  onRefused,
}: RetryBudgetOptions = {}): RetryBudget {
  const sliceMs = ttlMs / BUCKETS;
  const floor = minPerSecond * (ttlMs / 1000);
  const buckets: Bucket[] = Array.from({ length: BUCKETS }, () => ({
    slice: -Infinity,
    requests: 0,
    retries: 0,
  }));
  let refused = 0;

  const current = (slice: number): Bucket => {
    const bucket = buckets[((slice % BUCKETS) + BUCKETS) % BUCKETS]!;
    if (bucket.slice !== slice) {
      bucket.slice = slice;
      bucket.requests = 0;
      bucket.retries = 0;
    }
    return bucket;
  };

  return {
    recordRequest() {
      current(Math.floor(clock.now() / sliceMs)).requests++;
    },
    tryWithdraw() {
      const slice = Math.floor(clock.now() / sliceMs);
      let requests = 0;
      let retries = 0;
      for (const b of buckets) {
        if (b.slice > slice - BUCKETS && b.slice <= slice) {
          requests += b.requests;
          retries += b.retries;
        }
      }
      // The epsilon keeps 0.2 × 100 from falling just short of 20 retries through rounding.
      if (retries + 1 <= floor + ratio * requests + 1e-9) {
        current(slice).retries++;
        return true;
      }
      refused++;
      onRefused?.();
      return false;
    },
    get refused() {
      return refused;
    },
  };
}
