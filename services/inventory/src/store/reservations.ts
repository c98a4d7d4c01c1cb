import { Events, type ReservationStatus } from '@bazaar/contracts';
import { type EventWriter, type Queryable, withTransaction } from '@bazaar/kit';
import {
  decideStep,
  hasRunOut,
  type ReservationLine,
  type ReservationRecord,
  type ReservationStep,
  statusAfter,
} from '../domain/reservation.ts';
import type { MovementKind } from '../domain/stock.ts';
import { applyHeldMovement, applyMovement, type StoreDeps } from './stock.ts';

/** How a reserve call ended: newly held, newly rejected, or the stored answer of an earlier call. */
export type ReserveOutcome = 'reserved' | 'rejected' | 'replayed';

/** A reserve call's answer. */
export interface ReserveResult {
  reservation: ReservationRecord;
  outcome: ReserveOutcome;
}

/** Why a step was refused (the problem code the route answers). */
export type StepRefusal = 'RESERVATION_NOT_FOUND' | 'RESERVATION_EXPIRED' | 'INVALID_STATE';

/**
 * A step's answer: it moved stock (`applied`), answered the reservation as it was (`as-is`), or was
 * refused. `expiredNow` says a commit found its reservation run out and expired it on the spot.
 */
export type StepResult =
  | { outcome: 'applied' | 'as-is'; reservation: ReservationRecord }
  | { outcome: 'refused'; refusal: StepRefusal; expiredNow?: boolean };

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  expires_at: Date | null;
  reason: 'OUT_OF_STOCK' | null;
  product_id: string | null;
}

const STEP_MOVEMENT: Record<ReservationStep, MovementKind> = {
  commit: 'commit',
  release: 'release',
  return: 'return',
};

/**
 * Reserves every line of an order, or none. Idempotent on the order id: the first call inserts
 * the reservation row, and a concurrent or later call with the same id waits for it on the primary
 * key and then answers what it stored (a release that came first left a RELEASED tombstone, so a
 * late reserve holds nothing). Lines are taken in product-id order (`lines` must come sorted, as
 * `mergeLines` gives them); when one is short, everything done for the lines is rolled back to a
 * savepoint (an order of one line has nothing to roll back) and the reservation is stored REJECTED
 * with the short product.
 */
export async function reserveStock(
  deps: StoreDeps,
  request: { orderId: string; lines: readonly ReservationLine[]; expiresAt: Date },
): Promise<ReserveResult> {
  return withTransaction(deps.db, async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO reservations (order_id, status, expires_at) VALUES ($1, 'RESERVED', $2)
       ON CONFLICT (order_id) DO NOTHING`,
      [request.orderId, request.expiresAt],
    );
    if (inserted.rowCount === 0) {
      return { reservation: (await loadReservation(tx, request.orderId))!, outcome: 'replayed' };
    }
    // A refused movement changes nothing, so only lines after the first have something to undo:
    // an order of one line needs no savepoint.
    const savepoint = request.lines.length > 1;
    if (savepoint) await tx.query('SAVEPOINT lines');
    for (const line of request.lines) {
      const held = await applyMovement(tx, deps.events, {
        productId: line.productId,
        orderId: request.orderId,
        kind: 'reserve',
        quantity: line.quantity,
      });
      if (!held) {
        if (savepoint) await tx.query('ROLLBACK TO SAVEPOINT lines');
        await tx.query(
          `UPDATE reservations
              SET status = 'REJECTED', expires_at = NULL, reason = 'OUT_OF_STOCK', product_id = $2,
                  updated_at = now()
            WHERE order_id = $1`,
          [request.orderId, line.productId],
        );
        return {
          reservation: {
            orderId: request.orderId,
            status: 'REJECTED',
            expiresAt: null,
            reason: 'OUT_OF_STOCK',
            productId: line.productId,
            lines: [],
          },
          outcome: 'rejected',
        };
      }
      await tx.query('INSERT INTO reservation_lines (order_id, product_id, quantity) VALUES ($1, $2, $3)', [
        request.orderId,
        line.productId,
        line.quantity,
      ]);
    }
    if (savepoint) await tx.query('RELEASE SAVEPOINT lines');
    return {
      reservation: {
        orderId: request.orderId,
        status: 'RESERVED',
        expiresAt: request.expiresAt,
        reason: null,
        productId: null,
        lines: [...request.lines],
      },
      outcome: 'reserved',
    };
  });
}

/**
 * Commits a reservation: what it holds becomes sold. A repeat (or a commit after a return) answers
 * as is; an expired or released reservation is refused with RESERVATION_EXPIRED. A reservation
 * whose time is up but which the expiry job has not reached yet is expired here, in this
 * transaction, and refused the same way: the rule does not depend on the job's timing.
 */
export function commitReservation(deps: StoreDeps, orderId: string, now: Date): Promise<StepResult> {
  return withTransaction(deps.db, async (tx) => {
    const record = await loadReservation(tx, orderId, { lock: true });
    if (!record) return { outcome: 'refused', refusal: 'RESERVATION_NOT_FOUND' };
    if (hasRunOut(record, now)) {
      await expireLocked(tx, deps.events, record);
      return { outcome: 'refused', refusal: 'RESERVATION_EXPIRED', expiredNow: true };
    }
    return step(tx, deps.events, record, 'commit');
  });
}

/**
 * Releases a reservation: what it holds is available again. Nothing to release (rejected, expired,
 * released) answers as is; a committed one is refused (its stock goes back by `return`). A release
 * before any reserve stores a RELEASED tombstone, so the late reserve of that order holds nothing.
 */
export function releaseReservation(deps: StoreDeps, orderId: string): Promise<StepResult> {
  return withTransaction(deps.db, async (tx) => {
    // DO NOTHING on a conflict: a reserve of the same order got there first; it is locked below.
    await tx.query(
      `INSERT INTO reservations (order_id, status) VALUES ($1, 'RELEASED') ON CONFLICT (order_id) DO NOTHING`,
      [orderId],
    );
    const record = (await loadReservation(tx, orderId, { lock: true }))!;
    return step(tx, deps.events, record, 'release');
  });
}

/** Returns the stock of a committed reservation (its order was cancelled after it was confirmed). */
export function returnReservation(deps: StoreDeps, orderId: string): Promise<StepResult> {
  return withTransaction(deps.db, async (tx) => {
    const record = await loadReservation(tx, orderId, { lock: true });
    if (!record) return { outcome: 'refused', refusal: 'RESERVATION_NOT_FOUND' };
    return step(tx, deps.events, record, 'return');
  });
}

/**
 * Expires reservations whose time is up at `now`, one transaction each, at most `limit` of them;
 * answers the order ids it expired. `SKIP LOCKED` lets several instances run this at once, each
 * taking other reservations, and passes over one a commit or release is working on right now.
 */
export async function expireDueReservations(deps: StoreDeps, now: Date, limit = 100): Promise<string[]> {
  const expired: string[] = [];
  while (expired.length < limit) {
    const orderId = await withTransaction(deps.db, async (tx) => {
      const { rows } = await tx.query<{ order_id: string }>(
        `SELECT order_id FROM reservations
          WHERE status = 'RESERVED' AND expires_at <= $1
          ORDER BY expires_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [now],
      );
      const due = rows[0];
      if (!due) return undefined;
      const record = (await loadReservation(tx, due.order_id))!;
      await expireLocked(tx, deps.events, record);
      return record.orderId;
    });
    if (orderId === undefined) break;
    expired.push(orderId);
  }
  return expired;
}

/** A reservation with its lines; with `lock`, its row stays locked until the transaction ends. */
export async function loadReservation(
  db: Queryable,
  orderId: string,
  { lock = false }: { lock?: boolean } = {},
): Promise<ReservationRecord | null> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT order_id, status, expires_at, reason, product_id FROM reservations WHERE order_id = $1${
      lock ? ' FOR UPDATE' : ''
    }`,
    [orderId],
  );
  const row = rows[0];
  if (!row) return null;
  const lines = await db.query<{ product_id: string; quantity: number }>(
    // Byte order, the order `mergeLines` sorts in: every transaction locks stock rows alike.
    'SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY product_id COLLATE "C"',
    [orderId],
  );
  return {
    orderId: row.order_id,
    status: row.status,
    expiresAt: row.expires_at,
    reason: row.reason,
    productId: row.product_id,
    lines: lines.rows.map((l) => ({ productId: l.product_id, quantity: l.quantity })),
  };
}

/** Carries out `name` on a locked reservation, as the state rules decide. */
async function step(
  tx: Queryable,
  events: EventWriter,
  record: ReservationRecord,
  name: ReservationStep,
): Promise<StepResult> {
  const decision = decideStep(name, record.status);
  if (decision === 'as-is') return { outcome: 'as-is', reservation: record };
  if (decision === 'expired') return { outcome: 'refused', refusal: 'RESERVATION_EXPIRED' };
  if (decision === 'invalid') return { outcome: 'refused', refusal: 'INVALID_STATE' };
  const status = statusAfter(name);
  await move(tx, events, record, STEP_MOVEMENT[name]);
  await setStatus(tx, record.orderId, status);
  return { outcome: 'applied', reservation: { ...record, status } };
}

/** Gives a locked, holding reservation's stock back and marks it EXPIRED, with its event. */
async function expireLocked(tx: Queryable, events: EventWriter, record: ReservationRecord): Promise<void> {
  await move(tx, events, record, 'expire');
  await setStatus(tx, record.orderId, 'EXPIRED');
  await events.publish(tx, Events.reservationExpired, record.orderId, { orderId: record.orderId });
}

/** One movement of `kind` per line, in product-id order (the lines are loaded sorted). */
async function move(tx: Queryable, events: EventWriter, record: ReservationRecord, kind: MovementKind) {
  for (const line of record.lines) {
    await applyHeldMovement(tx, events, {
      productId: line.productId,
      orderId: record.orderId,
      kind,
      quantity: line.quantity,
    });
  }
}

async function setStatus(tx: Queryable, orderId: string, status: ReservationStatus): Promise<void> {
  await tx.query('UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1', [
    orderId,
    status,
  ]);
}
