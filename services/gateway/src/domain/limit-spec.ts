import type { BucketPolicy } from './token-bucket.ts';

/**
 * The form of a rate-limit setting (`LIMIT_SPEC_PATTERN` in contracts, shared with the config
 * center): `off`, or `<count>/<duration>[,burst=<n>]` — `count` tokens per `duration` (`ms`, `s`,
 * `m`, `h`, with an optional number: `100/s`, `5/15m`), and a bucket of `burst` tokens (default: `count`).
 */

const SPEC = /^(\d+(?:\.\d+)?)\/(\d*)(ms|s|m|h)(?:,burst=(\d+))?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** The bucket a setting describes; undefined for `off`. Throws on a malformed setting. */
export function parseLimit(spec: string): BucketPolicy | undefined {
  const text = spec.trim();
  if (text === 'off') return undefined;
  const match = SPEC.exec(text);
  if (!match) throw new Error(`"${spec}" is not a rate limit (write e.g. 100/s,burst=200, 5/15m or off)`);
  const count = Number(match[1]);
  const durationMs = Number(match[2] || 1) * UNIT_MS[match[3] as keyof typeof UNIT_MS];
  const capacity = match[4] ? Number(match[4]) : count;
  if (!(count > 0) || !(durationMs > 0) || !(capacity >= 1)) {
    throw new Error(`"${spec}" is not a rate limit: count, duration and burst must be positive`);
  }
  return { capacity, refillPerMs: count / durationMs };
}
