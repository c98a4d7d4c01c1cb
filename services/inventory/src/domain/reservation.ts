import type { OrderLineRef, Reservation, ReservationStatus } from '@bazaar/contracts';

/** A reservation as inventory keeps it: the public `Reservation` plus what it holds. */
export interface ReservationRecord {
  orderId: string;
  status: ReservationStatus;
  /** Null for a rejected reservation and for a release that came first (a tombstone). */
  expiresAt: Date | null;
  reason: 'OUT_OF_STOCK' | null;
  /** The short product of a rejected reservation. */
  productId: string | null;
  lines: ReservationLine[];
}

/** What a reservation holds of one product. */
export interface ReservationLine {
  productId: string;
  quantity: number;
}

/** The steps that follow a reservation, each called by orders with the order id. */
export type ReservationStep = 'commit' | 'release' | 'return';

/**
 * What a step does to a reservation in a given status: move stock (`act`), answer the reservation
 * as it is (a repeat, or nothing left to do), or refuse with 409 (`expired`: the hold is gone, so
 * the order cannot be confirmed; `invalid`: the step makes no sense in that state).
 */
export type StepDecision = 'act' | 'as-is' | 'expired' | 'invalid';

const STEPS: Record<
  ReservationStep,
  { from: ReservationStatus; to: ReservationStatus; asIs: ReservationStatus[]; expired: ReservationStatus[] }
> = {
  // A commit repeated after a return answers as is: the commit did happen.
  commit: {
    from: 'RESERVED',
    to: 'COMMITTED',
    asIs: ['COMMITTED', 'RETURNED'],
    expired: ['EXPIRED', 'RELEASED'],
  },
  // Nothing is held after a rejection, an expiry or an earlier release: releasing again is no error.
  release: { from: 'RESERVED', to: 'RELEASED', asIs: ['RELEASED', 'EXPIRED', 'REJECTED'], expired: [] },
  return: { from: 'COMMITTED', to: 'RETURNED', asIs: ['RETURNED'], expired: [] },
};

/** Decides what `step` does to a reservation in `status` (the state rules of the internal routes). */
export function decideStep(step: ReservationStep, status: ReservationStatus): StepDecision {
  const rule = STEPS[step];
  if (status === rule.from) return 'act';
  if (rule.asIs.includes(status)) return 'as-is';
  return rule.expired.includes(status) ? 'expired' : 'invalid';
}

/** The status a reservation has after `step` acted. */
export function statusAfter(step: ReservationStep): ReservationStatus {
  return STEPS[step].to;
}

/**
 * Whether a holding reservation has run out at `now`. The commit checks it too, so whether an
 * order can still be confirmed never depends on when the expiry job last ran.
 */
export function hasRunOut(record: Pick<ReservationRecord, 'status' | 'expiresAt'>, now: Date): boolean {
  return record.status === 'RESERVED' && record.expiresAt !== null && record.expiresAt <= now;
}

/** When a reservation made at `now` runs out. */
export function expiryOf(now: Date, ttlSeconds: number): Date {
  return new Date(now.getTime() + ttlSeconds * 1000);
}

/**
 * The lines of a reservation request, one per product (repeated products summed), in product-id
 * order: every transaction locks stock rows in that order, so two of them never deadlock.
 */
export function mergeLines(items: readonly OrderLineRef[]): ReservationLine[] {
  const byProduct = new Map<string, number>();
  for (const { productId, quantity } of items) {
    const id = productKey(productId);
    byProduct.set(id, (byProduct.get(id) ?? 0) + quantity);
  }
  return [...byProduct]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/**
 * The form a product id is kept in. Catalog's ids are UUIDs, which it answers in lower case; an id
 * given in upper case names the same product and must reach the same stock row.
 */
export function productKey(productId: string): string {
  return productId.toLowerCase();
}

/**
 * The contract's `Reservation` with its status typed: the contract builds the status union from a
 * mapped array, which TypeScript reads as `never`.
 */
export type ReservationAnswer = Omit<Reservation, 'status'> & { status: ReservationStatus };

/** The reservation as callers see it. */
export function toReservation(record: ReservationRecord): ReservationAnswer {
  const reservation: ReservationAnswer = {
    orderId: record.orderId,
    status: record.status,
    expiresAt: record.expiresAt?.toISOString() ?? null,
  };
  if (record.reason) reservation.reason = record.reason;
  if (record.productId) reservation.productId = record.productId;
  return reservation;
}
