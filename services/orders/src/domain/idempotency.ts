/**
 * Checkout idempotency: what a request with an already used `Idempotency-Key` gets. Bodies are
 * compared as canonical JSON (object keys sorted at every depth), so the same body written with
 * its keys in another order is the same request.
 */

/** A key as stored: the first request's body hash, its order once placed, and when it answered. */
export interface KeyRecord {
  requestHash: string;
  orderId: string | null;
  /** Epoch ms by which the request holding the key answers: its deadline, when it claimed the key. */
  answerBy: number;
  /** Epoch ms when the first request answered, null while it works. */
  answeredAt: number | null;
}

/**
 * What a repeated key means:
 * - `reused`: another body — 422;
 * - `in-use`: the first request is still working — 409;
 * - `replay`: answer the order as it is now — 200;
 * - `abandoned`: a claim whose request died before ordering anything — take it over.
 */
export type KeyVerdict = 'reused' | 'in-use' | 'replay' | 'abandoned';

/**
 * The longest a request may hold a key, whatever deadline it came with. A claim lasts until its
 * request's deadline (plus `CLAIM_GRACE_MS` for the answer to leave): past it, nobody waits for
 * that request any more, so a process that died holding the key blocks its repeats only that long.
 */
export const CLAIM_MAX_MS = 30_000;
export const CLAIM_GRACE_MS = 1_000;

/** How long a request with `deadlineMs` left holds the key it claims. */
export function claimLifetime(deadlineMs: number): number {
  return Math.min(Math.max(0, deadlineMs), CLAIM_MAX_MS) + CLAIM_GRACE_MS;
}

/** Judges a request with `hash` that found `record` under its key. */
export function judgeKey(record: KeyRecord, hash: string, now: number): KeyVerdict {
  const stale = now >= record.answerBy;
  if (record.orderId === null) return stale ? 'abandoned' : record.requestHash === hash ? 'in-use' : 'reused';
  if (record.requestHash !== hash) return 'reused';
  return record.answeredAt === null && !stale ? 'in-use' : 'replay';
}

/** JSON with object keys sorted at every depth; `undefined` members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
