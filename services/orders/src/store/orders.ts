import type { Address, CancelReason, DeclineCode, OrderLine, OrderStatus, Position } from '@bazaar/contracts';
import type { Queryable } from '@bazaar/kit';
import { Order } from '../domain/order.ts';
import type { PaymentHold, SagaStep, StockHold } from '../domain/saga.ts';
import type { KeyClaim } from './idempotency-keys.ts';

/** A stored order with what only the store knows: its saga version and the card token. */
export interface StoredOrder {
  order: Order;
  /** Bumped by every saga change; a runner stores its outcome only if it is unchanged. */
  version: number;
  /** The card token, until the saga is past authorization. */
  paymentToken: string | null;
  leaseOwner: string | null;
}

interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  total: string;
  currency: string;
  shipping_address: Address;
  cancel_reason: CancelReason | null;
  decline_code: DeclineCode | null;
  payment_token: string | null;
  saga_step: SagaStep;
  saga_stock: StockHold;
  saga_payment: PaymentHold;
  saga_cancel_reason: CancelReason | null;
  saga_decline_code: DeclineCode | null;
  saga_attempts: number;
  saga_step_started_at: Date;
  saga_next_attempt_at: Date;
  saga_last_error: string | null;
  saga_version: number;
  cancel_requested: boolean;
  lease_owner: string | null;
  created_at: Date;
  updated_at: Date;
}

interface LineRow {
  order_id: string;
  product_id: string;
  merchant_id: string;
  name: string;
  price: number;
  quantity: number;
  line_total: string;
}

const ORDER_COLUMNS = `id, customer_id, status, total, currency, shipping_address, cancel_reason, decline_code,
  payment_token, saga_step, saga_stock, saga_payment, saga_cancel_reason, saga_decline_code, saga_attempts,
  saga_step_started_at, saga_next_attempt_at, saga_last_error, saga_version, cancel_requested, lease_owner,
  created_at, updated_at`;

/**
 * Places a new order: attaches it to the request's idempotency key and inserts it and its lines,
 * in one statement, only while the request still holds the key (false, with nothing written, when
 * another request took the key over). With `leaseOwner`, the inserting instance holds the saga's
 * lease from the start, so no other instance's sweep takes an order that is about to be driven.
 */
export async function insertOrder(
  db: Queryable,
  order: Order,
  options: { paymentToken: string | null; leaseOwner: string | null; leaseMs: number; claim: KeyClaim },
): Promise<boolean> {
  const s = order.saga;
  const { claim } = options;
  const { rows } = await db.query<{ placed: boolean }>(
    `WITH key AS (
       UPDATE idempotency_keys SET order_id = $1
       WHERE customer_id = $26 AND key = $27 AND claim_token = $28 AND order_id IS NULL
       RETURNING 1
     ), placed AS (
       INSERT INTO orders (id, customer_id, status, total, currency, shipping_address, cancel_reason, decline_code,
         payment_token, saga_step, saga_stock, saga_payment, saga_cancel_reason, saga_decline_code,
         saga_step_started_at, saga_next_attempt_at, lease_owner, lease_until, created_at, updated_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
         CASE WHEN $17::text IS NULL THEN NULL ELSE now() + $18 * interval '1 millisecond' END, $19, $19
       FROM key
       RETURNING id
     ), lines AS (
       INSERT INTO order_lines (order_id, position, product_id, merchant_id, name, price, quantity, line_total)
       SELECT placed.id, l.position - 1, l.product_id, l.merchant_id, l.name, l.price, l.quantity, l.line_total
       FROM placed, unnest($20::text[], $21::text[], $22::text[], $23::int[], $24::int[], $25::bigint[])
         WITH ORDINALITY AS l(product_id, merchant_id, name, price, quantity, line_total, position)
     )
     SELECT EXISTS (SELECT 1 FROM placed) AS placed`,
    [
      order.id,
      order.customerId,
      order.status,
      order.total,
      order.currency,
      JSON.stringify(order.shippingAddress),
      order.cancelReason,
      order.declineCode,
      order.settled ? null : options.paymentToken,
      s.step,
      s.stock,
      s.payment,
      s.cancellation?.reason ?? null,
      s.cancellation?.declineCode ?? null,
      new Date(s.stepStartedAt),
      new Date(s.nextAttemptAt),
      order.settled ? null : options.leaseOwner,
      options.leaseMs,
      new Date(order.createdAt),
      order.lines.map((l) => l.productId),
      order.lines.map((l) => l.merchantId),
      order.lines.map((l) => l.name),
      order.lines.map((l) => l.price),
      order.lines.map((l) => l.quantity),
      order.lines.map((l) => l.lineTotal),
      claim.customerId,
      claim.key,
      claim.token,
    ],
  );
  return rows[0]?.placed === true;
}

/**
 * Stores the order's new state (status, reasons, saga) as version `version + 1`, extends the
 * caller's lease to cover the wait for the next attempt, and forgets the card token once the saga
 * is past authorization.
 */
export async function saveOrder(
  tx: Queryable,
  order: Order,
  version: number,
  lease?: { owner: string; leaseMs: number },
): Promise<void> {
  await tx.query(
    `UPDATE orders SET ${SAVED_COLUMNS},
       lease_until = CASE WHEN $17::text IS NULL THEN lease_until
                          ELSE GREATEST(now(), $12) + $18 * interval '1 millisecond' END
     WHERE id = $1`,
    savedValues(order, version, lease),
  );
}

/**
 * A saga step's outcome, stored in one statement: the order's new state (as `saveOrder`) and the
 * step's line in the saga log, only if the order is still at `version` and `owner` still holds its
 * lease. A finished saga gives the lease up in the same statement. Answers the order's stored
 * creation time when it was stored (a saga's duration is measured from it); undefined changes
 * nothing (the lease went to another runner, or the saga changed meanwhile).
 */
export async function saveSagaStep(
  tx: Queryable,
  order: Order,
  version: number,
  lease: { owner: string; leaseMs: number },
  entry: { step: SagaStep; outcome: string; detail: string | null },
): Promise<Date | undefined> {
  const values = savedValues(order, version, lease);
  const n = values.length;
  const { rows } = await tx.query<{ created_at: Date }>(
    `WITH saved AS (
       UPDATE orders SET ${SAVED_COLUMNS},
         lease_owner = CASE WHEN $5 = 'DONE' THEN NULL ELSE lease_owner END,
         lease_until = CASE WHEN $5 = 'DONE' THEN NULL
                            ELSE GREATEST(now(), $12) + $18 * interval '1 millisecond' END
       WHERE id = $1 AND saga_version = $15 AND lease_owner = $17
       RETURNING id, created_at),
     logged AS (
       INSERT INTO order_saga_log (order_id, step, outcome, detail)
       SELECT id, $${n + 1}, $${n + 2}, $${n + 3} FROM saved)
     SELECT created_at FROM saved`,
    [...values, entry.step, entry.outcome, entry.detail],
  );
  return rows[0]?.created_at;
}

/** What `saveOrder` and `saveSagaStep` both set (the lease aside), from the parameters of `savedValues`. */
const SAVED_COLUMNS = `status = $2, cancel_reason = $3, decline_code = $4,
       payment_token = CASE WHEN $5 IN ('RESERVING', 'AUTHORIZING') THEN payment_token END,
       saga_step = $5, saga_stock = $6, saga_payment = $7, saga_cancel_reason = $8, saga_decline_code = $9,
       saga_attempts = $10, saga_step_started_at = $11, saga_next_attempt_at = $12, saga_last_error = $13,
       cancel_requested = $14, saga_version = $15 + 1, updated_at = $16`;

function savedValues(order: Order, version: number, lease?: { owner: string; leaseMs: number }): unknown[] {
  const s = order.saga;
  return [
    order.id,
    order.status,
    order.cancelReason,
    order.declineCode,
    s.step,
    s.stock,
    s.payment,
    s.cancellation?.reason ?? null,
    s.cancellation?.declineCode ?? null,
    s.attempts,
    new Date(s.stepStartedAt),
    new Date(s.nextAttemptAt),
    s.lastError,
    s.cancelRequested,
    version,
    new Date(order.updatedAt),
    lease?.owner ?? null,
    lease?.leaseMs ?? 0,
  ];
}

/**
 * One order with its lines; `lock` takes the row lock (inside a transaction). Lines never change,
 * so a caller that has them passes `lines` and spares the query.
 */
export async function loadOrder(
  db: Queryable,
  id: string,
  options: { lock?: boolean; lines?: readonly OrderLine[] } = {},
): Promise<StoredOrder | undefined> {
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1${options.lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const lines = options.lines ?? (await linesOf(db, [id])).get(id) ?? [];
  return stored(row, [...lines]);
}

/** Whether the customer has an order whose checkout is still PENDING. */
export async function hasPendingOrder(db: Queryable, customerId: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM orders WHERE customer_id = $1 AND status = 'PENDING'`, [
    customerId,
  ]);
  return (rowCount ?? 0) > 0;
}

/** A page of orders, newest first: one customer's, or everybody's when `customerId` is undefined. */
export async function listOrders(
  db: Queryable,
  query: { customerId: string | undefined; limit: number; after: Position | undefined },
): Promise<{ items: Order[]; next: Position | undefined }> {
  const values: unknown[] = [query.limit + 1];
  const where: string[] = [];
  if (query.customerId !== undefined) {
    values.push(query.customerId);
    where.push(`customer_id = $${values.length}`);
  }
  if (query.after) {
    values.push(query.after.createdAt, query.after.id);
    where.push(`(created_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
  }
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    values,
  );
  return page(db, rows, query.limit);
}

/**
 * A page of the orders holding at least one line of `merchantId`, newest first, each with only
 * that merchant's lines and the total of those lines.
 */
export async function listMerchantOrders(
  db: Queryable,
  query: { merchantId: string; limit: number; after: Position | undefined },
): Promise<{ items: Order[]; next: Position | undefined }> {
  const values: unknown[] = [query.limit + 1, query.merchantId];
  let after = '';
  if (query.after) {
    values.push(query.after.createdAt, query.after.id);
    after = 'AND (o.created_at, o.id) < ($3::timestamptz, $4::uuid)';
  }
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders o
     WHERE EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.merchant_id = $2) ${after}
     ORDER BY o.created_at DESC, o.id DESC LIMIT $1`,
    values,
  );
  return page(db, rows, query.limit, query.merchantId);
}

/**
 * Takes the saga's lease for `owner` when it is free (never taken, expired, or already ours) and
 * the saga has work left. Several orders instances may race here; one wins.
 */
export async function claimLease(
  db: Queryable,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE orders SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond'
     WHERE id = $1 AND saga_step <> 'DONE'
       AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)`,
    [id, owner, leaseMs],
  );
  return (rowCount ?? 0) > 0;
}

/** Gives the lease up, so any instance's next sweep may take the saga at once. */
export async function releaseLease(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query(
    `UPDATE orders SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`,
    [id, owner],
  );
}

/** Sagas with work due (or due within `aheadMs`) whose lease is free: what a sweep takes. */
export async function dueSagas(db: Queryable, limit: number, aheadMs = 0): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM orders
     WHERE saga_step <> 'DONE' AND saga_next_attempt_at <= now() + $2 * interval '1 millisecond'
       AND (lease_until IS NULL OR lease_until < now())
     ORDER BY saga_next_attempt_at LIMIT $1`,
    [limit, aheadMs],
  );
  return rows.map((r) => r.id);
}

/** How many orders are PENDING (the metrics gauge). */
export async function countPending(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM orders WHERE status = 'PENDING'`);
  return Number(rows[0]?.n ?? 0);
}

/** How many orders are PENDING and were created more than `olderThanSeconds` ago (the stuck gauge). */
export async function countPendingOlderThan(db: Queryable, olderThanSeconds: number): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM orders
      WHERE status = 'PENDING' AND created_at < now() - $1 * interval '1 second'`,
    [olderThanSeconds],
  );
  return Number(rows[0]?.n ?? 0);
}

async function page(
  db: Queryable,
  rows: OrderRow[],
  limit: number,
  merchantId?: string,
): Promise<{ items: Order[]; next: Position | undefined }> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const lines = await linesOf(
    db,
    shown.map((r) => r.id),
    merchantId,
  );
  const items = shown.map((r) => stored(r, lines.get(r.id) ?? [], merchantId !== undefined).order);
  const last = shown.at(-1);
  return {
    items,
    next: more && last ? { createdAt: last.created_at.toISOString(), id: last.id } : undefined,
  };
}

async function linesOf(db: Queryable, ids: string[], merchantId?: string): Promise<Map<string, OrderLine[]>> {
  const byOrder = new Map<string, OrderLine[]>();
  if (ids.length === 0) return byOrder;
  const values: unknown[] = [ids];
  if (merchantId !== undefined) values.push(merchantId);
  const { rows } = await db.query<LineRow>(
    `SELECT order_id, product_id, merchant_id, name, price, quantity, line_total FROM order_lines
     WHERE order_id = ANY($1::uuid[])${merchantId !== undefined ? ' AND merchant_id = $2' : ''}
     ORDER BY order_id, position`,
    values,
  );
  for (const r of rows) {
    const list = byOrder.get(r.order_id) ?? [];
    list.push({
      productId: r.product_id,
      name: r.name,
      price: r.price,
      quantity: r.quantity,
      lineTotal: Number(r.line_total),
      merchantId: r.merchant_id,
    });
    byOrder.set(r.order_id, list);
  }
  return byOrder;
}

/** Rebuilds an order from its row; `partial`: the lines are a subset, so the total is theirs. */
function stored(row: OrderRow, lines: OrderLine[], partial = false): StoredOrder {
  const order = new Order({
    id: row.id,
    customerId: row.customer_id,
    status: row.status,
    lines,
    total: partial ? lines.reduce((sum, l) => sum + l.lineTotal, 0) : Number(row.total),
    currency: row.currency,
    shippingAddress: row.shipping_address,
    cancelReason: row.cancel_reason,
    // A merchant sees why an order was cancelled, not the customer's card details.
    declineCode: partial ? null : row.decline_code,
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
    saga: {
      step: row.saga_step,
      stock: row.saga_stock,
      payment: row.saga_payment,
      cancelRequested: row.cancel_requested,
      cancellation: row.saga_cancel_reason
        ? { reason: row.saga_cancel_reason, declineCode: row.saga_decline_code }
        : null,
      attempts: row.saga_attempts,
      stepStartedAt: row.saga_step_started_at.getTime(),
      nextAttemptAt: row.saga_next_attempt_at.getTime(),
      lastError: row.saga_last_error,
    },
  });
  return { order, version: row.saga_version, paymentToken: row.payment_token, leaseOwner: row.lease_owner };
}
