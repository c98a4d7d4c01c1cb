import type { DeclineCode, PaymentStatus, Position } from '@bazaar/contracts';
import type { Queryable } from '@bazaar/kit';
import type { PaymentRecord, PaymentStep } from '../domain/payment.ts';

interface PaymentRow {
  id: string;
  order_id: string;
  customer_id: string | null;
  status: PaymentStatus;
  amount: number;
  currency: string;
  decline_code: DeclineCode | null;
  provider_ref: string | null;
  created_at: Date;
}

const COLUMNS = 'id, order_id, customer_id, status, amount, currency, decline_code, provider_ref, created_at';

/**
 * Serializes every step on one order's payment until the transaction ends: two calls for the same
 * order (a retry racing its original, a void racing an authorize) run one after the other.
 */
export async function lockOrder(tx: Queryable, orderId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`payments:order:${orderId}`]);
}

/** The payment of an order, if there is one. */
export async function findPayment(db: Queryable, orderId: string): Promise<PaymentRecord | null> {
  const { rows } = await db.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE order_id = $1`, [
    orderId,
  ]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * The ledger row of a payment's effect, made from the payment row `p` of the same statement:
 * every effect moves the whole authorized amount (full captures, voids and refunds only). A second
 * effect of the same kind for the same order is refused by the ledger's key.
 */
const LEDGER_ROW = (kind: string) => `
  effect AS (
    INSERT INTO payment_ledger (payment_id, order_id, kind, amount, currency, provider_ref)
    SELECT id, order_id, ${kind}, amount, currency, provider_ref FROM p WHERE ${kind} IS NOT NULL
  )`;

/**
 * Stores a new payment (under the order's lock, so the order has none yet) and, when `effect` is
 * given, its ledger row, in one statement.
 */
export async function insertPayment(
  tx: Queryable,
  payment: Omit<PaymentRecord, 'id' | 'createdAt'>,
  effect?: 'authorize',
): Promise<PaymentRecord> {
  const { rows } = await tx.query<PaymentRow>(
    `WITH p AS (
       INSERT INTO payments (order_id, customer_id, status, amount, currency, decline_code, provider_ref)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}
     ), ${LEDGER_ROW('$8::text')}
     SELECT ${COLUMNS} FROM p`,
    [
      payment.orderId,
      payment.customerId,
      payment.status,
      payment.amount,
      payment.currency,
      payment.declineCode,
      payment.providerRef,
      effect ?? null,
    ],
  );
  return toRecord(rows[0]!);
}

/** Moves a payment to `status` and records the step's ledger row, in one statement. */
export async function setStatus(
  tx: Queryable,
  id: string,
  status: PaymentStatus,
  effect: PaymentStep,
): Promise<PaymentRecord> {
  const { rows } = await tx.query<PaymentRow>(
    `WITH p AS (
       UPDATE payments SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}
     ), ${LEDGER_ROW('$3::text')}
     SELECT ${COLUMNS} FROM p`,
    [id, status, effect],
  );
  return toRecord(rows[0]!);
}

/** Filters and position of one page of `listPayments`. */
export interface ListPaymentsOptions {
  /** Only this customer's payments; undefined lists everybody's (admins). */
  customerId?: string | undefined;
  orderId?: string | undefined;
  limit: number;
  after?: Position | undefined;
}

/** One page of payments newest first, and the position of its last row when more follow. */
export async function listPayments(
  db: Queryable,
  options: ListPaymentsOptions,
): Promise<{ items: PaymentRecord[]; next: Position | null }> {
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (options.customerId !== undefined) where.push(`customer_id = ${param(options.customerId)}`);
  if (options.orderId !== undefined) where.push(`order_id = ${param(options.orderId)}`);
  if (options.after) {
    where.push(
      `(created_at, id) < (${param(options.after.createdAt)}::timestamptz, ${param(options.after.id)}::uuid)`,
    );
  }
  const { rows } = await db.query<PaymentRow>(
    `SELECT ${COLUMNS} FROM payments ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT ${param(options.limit + 1)}`,
    values,
  );
  const page = rows.slice(0, options.limit).map(toRecord);
  const last = page.at(-1);
  return {
    items: page,
    next: rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}

function toRecord(row: PaymentRow): PaymentRecord {
  return {
    id: row.id,
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    declineCode: row.decline_code,
    providerRef: row.provider_ref,
    createdAt: row.created_at.toISOString(),
  };
}
