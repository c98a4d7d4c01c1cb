/** A token bucket's shape: it holds up to `capacity` tokens and gains `refillPerMs` each millisecond. */
export interface BucketPolicy {
  capacity: number;
  refillPerMs: number;
}

/** A bucket's state at `updatedAt` (ms). */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

/** The answer to a take: allowed, or refused with the time until enough tokens are back. */
export interface BucketDecision {
  allowed: boolean;
  /** Whole tokens left after this take. */
  remaining: number;
  /** When refused: ms until the take would succeed; 0 otherwise. */
  retryAfterMs: number;
}

/**
 * Takes `cost` tokens from a bucket at time `now` (a negative cost gives tokens back, up to the
 * capacity). A bucket never seen is full. A refused take takes nothing.
 */
export function takeTokens(
  state: BucketState | undefined,
  policy: BucketPolicy,
  now: number,
  cost = 1,
): { state: BucketState; decision: BucketDecision } {
  let tokens = policy.capacity;
  if (state) {
    const elapsed = Math.max(0, now - state.updatedAt);
    tokens = Math.min(policy.capacity, state.tokens + elapsed * policy.refillPerMs);
  }
  if (cost <= 0) {
    tokens = Math.min(policy.capacity, tokens - cost);
    return { state: { tokens, updatedAt: now }, decision: allowed(tokens) };
  }
  if (tokens >= cost) {
    tokens -= cost;
    return { state: { tokens, updatedAt: now }, decision: allowed(tokens) };
  }
  return {
    state: { tokens, updatedAt: now },
    decision: {
      allowed: false,
      remaining: Math.floor(tokens),
      retryAfterMs: Math.ceil((cost - tokens) / policy.refillPerMs),
    },
  };
}

function allowed(tokens: number): BucketDecision {
  return { allowed: true, remaining: Math.floor(tokens), retryAfterMs: 0 };
}
