import type { Queryable } from '@bazaar/kit';
import type { KeyRecord } from '../domain/idempotency.ts';

/** A key this request now holds: `token` proves it when the order is attached or the claim dropped. */
export interface KeyClaim {
  customerId: string;
  key: string;
  token: string;
  /** How long the claim holds the key (see `claimLifetime`). */
  lifetimeMs: number;
}

/**
 * Claims `key` for a new request of `customerId` with body hash `hash`. Answers `claimed` when the
 * key was free, else the record found (the caller judges it; see `takeOverKey` for abandoned ones).
 */
export async function claimKey(
  db: Queryable,
  claim: KeyClaim,
  hash: string,
): Promise<{ claimed: true } | { claimed: false; record: KeyRecord }> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (customer_id, key, request_hash, claim_token, answer_by)
     VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
     ON CONFLICT (customer_id, key) DO NOTHING`,
    [claim.customerId, claim.key, hash, claim.token, claim.lifetimeMs],
  );
  if ((inserted.rowCount ?? 0) > 0) return { claimed: true };
  const { rows } = await db.query<{
    request_hash: string;
    order_id: string | null;
    answer_by: Date;
    answered_at: Date | null;
  }>(
    `SELECT request_hash, order_id, answer_by, answered_at FROM idempotency_keys
     WHERE customer_id = $1 AND key = $2`,
    [claim.customerId, claim.key],
  );
  const row = rows[0];
  // Dropped between our insert and select (its request failed before ordering): try again.
  if (!row) return claimKey(db, claim, hash);
  return {
    claimed: false,
    record: {
      requestHash: row.request_hash,
      orderId: row.order_id,
      answerBy: row.answer_by.getTime(),
      answeredAt: row.answered_at?.getTime() ?? null,
    },
  };
}

/**
 * Takes over a claim whose request is past its deadline without having ordered anything; false
 * when another request won it.
 */
export async function takeOverKey(db: Queryable, claim: KeyClaim, hash: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE idempotency_keys
     SET request_hash = $3, claim_token = $4, claimed_at = now(),
         answer_by = now() + $5 * interval '1 millisecond', answered_at = NULL
     WHERE customer_id = $1 AND key = $2 AND order_id IS NULL AND answer_by <= now()`,
    [claim.customerId, claim.key, hash, claim.token, claim.lifetimeMs],
  );
  return (rowCount ?? 0) > 0;
}

/** The first request has answered: repeats now get the order as it is. */
export async function markAnswered(db: Queryable, claim: KeyClaim): Promise<void> {
  await db.query(
    `UPDATE idempotency_keys SET answered_at = now() WHERE customer_id = $1 AND key = $2 AND claim_token = $3`,
    [claim.customerId, claim.key, claim.token],
  );
}

/** Gives a claim back when the request ordered nothing (empty cart, price changed…): the key is free again. */
export async function dropClaim(db: Queryable, claim: KeyClaim): Promise<void> {
  await db.query(
    `DELETE FROM idempotency_keys WHERE customer_id = $1 AND key = $2 AND claim_token = $3 AND order_id IS NULL`,
    [claim.customerId, claim.key, claim.token],
  );
}

/** Forgets keys older than `maxAgeMs` (24 h); answers how many. */
export async function deleteExpiredKeys(db: Queryable, maxAgeMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys WHERE created_at < now() - $1 * interval '1 millisecond'`,
    [maxAgeMs],
  );
  return rowCount ?? 0;
}
