/** Options of `fullJitterBackoff`. */
export interface BackoffOptions {
  /** Upper bound of the first retry's pause. */
  baseMs?: number;
  /** No pause exceeds this, however many attempts. */
  capMs?: number;
  /** A source of numbers in [0, 1). */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: the pause before retry `attempt` (1 = the first retry) is
 * uniform in `[0, min(cap, base × 2^(attempt-1)))`, so callers that failed together do not retry together.
 */
export function fullJitterBackoff({
  baseMs = 50,
  capMs = 1_000,
  random = Math.random,
}: BackoffOptions = {}): (attempt: number) => number {
  return function backoffMs(attempt) {
    const ceiling = Math.min(capMs, baseMs * 2 ** (Math.max(1, attempt) - 1));
    return random() * ceiling;
  };
}
