import type {
  Address,
  CancelReason,
  DeclineCode,
  OrderCancelledEvent,
  OrderConfirmedEvent,
  OrderLine,
  OrderStatus,
  Order as OrderView,
} from '@bazaar/contracts';
import {
  advanceSaga,
  DEFAULT_SAGA_POLICY,
  requestCancel,
  type SagaPolicy,
  type SagaState,
  type StepOutcome,
  startSaga,
} from './saga.ts';

/** An event an order recorded, to be published in the transaction that stores the change. */
export type OrderEvent =
  | { type: 'order-confirmed'; data: OrderConfirmedEvent }
  | { type: 'order-cancelled'; data: OrderCancelledEvent };

/** A transition the order's state does not allow (a bug in the caller, never a user's mistake). */
export class OrderStateError extends Error {
  override name = 'OrderStateError';
}

/** Everything an order is made of, as stored. Times are epoch milliseconds. */
export interface OrderFields {
  id: string;
  customerId: string;
  status: OrderStatus;
  lines: OrderLine[];
  total: number;
  currency: string;
  shippingAddress: Address;
  cancelReason: CancelReason | null;
  declineCode: DeclineCode | null;
  createdAt: number;
  updatedAt: number;
  saga: SagaState;
}

/** What placing an order needs: lines priced by `priceCart`. */
export interface NewOrder {
  id: string;
  customerId: string;
  lines: OrderLine[];
  currency: string;
  shippingAddress: Address;
}

/**
 * An order and its checkout saga. Status changes only through guarded methods — `confirm()`,
 * `cancel(reason)` — which record the event that announces them.
 */
export class Order {
  readonly id: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly total: number;
  readonly currency: string;
  readonly shippingAddress: Address;
  readonly createdAt: number;
  #status: OrderStatus;
  #cancelReason: CancelReason | null;
  #declineCode: DeclineCode | null;
  #updatedAt: number;
  #saga: SagaState;
  #events: OrderEvent[] = [];

  constructor(fields: OrderFields) {
    this.id = fields.id;
    this.customerId = fields.customerId;
    this.lines = fields.lines;
    this.total = fields.total;
    this.currency = fields.currency;
    this.shippingAddress = fields.shippingAddress;
    this.createdAt = fields.createdAt;
    this.#status = fields.status;
    this.#cancelReason = fields.cancelReason;
    this.#declineCode = fields.declineCode;
    this.#updatedAt = fields.updatedAt;
    this.#saga = fields.saga;
  }

  /** A new PENDING order whose saga starts by reserving its stock. */
  static place(order: NewOrder, now: number): Order {
    return new Order({
      ...order,
      status: 'PENDING',
      total: sumLines(order.lines),
      cancelReason: null,
      declineCode: null,
      createdAt: now,
      updatedAt: now,
      saga: startSaga(now),
    });
  }

  get status(): OrderStatus {
    return this.#status;
  }

  get cancelReason(): CancelReason | null {
    return this.#cancelReason;
  }

  get declineCode(): DeclineCode | null {
    return this.#declineCode;
  }

  get updatedAt(): number {
    return this.#updatedAt;
  }

  get saga(): SagaState {
    return this.#saga;
  }

  /** Whether the saga has nothing left to do (the order is CONFIRMED or CANCELLED for good). */
  get settled(): boolean {
    return this.#saga.step === 'DONE';
  }

  /** PENDING → CONFIRMED: stock committed and payment captured. */
  confirm(now: number): void {
    if (this.#status !== 'PENDING') throw new OrderStateError(`a ${this.#status} order cannot be confirmed`);
    this.#status = 'CONFIRMED';
    this.#updatedAt = now;
    this.#events.push({
      type: 'order-confirmed',
      data: {
        orderId: this.id,
        customerId: this.customerId,
        items: this.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
        total: this.total,
        currency: this.currency,
      },
    });
  }

  /** PENDING → CANCELLED with a reason; CONFIRMED → CANCELLED only when the customer cancels. */
  cancel(reason: CancelReason, declineCode: DeclineCode | null, now: number): void {
    if (this.#status === 'CANCELLED') throw new OrderStateError('the order is already cancelled');
    if (this.#status === 'CONFIRMED' && reason !== 'CUSTOMER_CANCELLED') {
      throw new OrderStateError(`a confirmed order cannot be cancelled for ${reason}`);
    }
    if (declineCode !== null && reason !== 'PAYMENT_DECLINED') {
      throw new OrderStateError('a decline code goes only with PAYMENT_DECLINED');
    }
    this.#status = 'CANCELLED';
    this.#cancelReason = reason;
    this.#declineCode = declineCode;
    this.#updatedAt = now;
    this.#events.push({
      type: 'order-cancelled',
      data: {
        orderId: this.id,
        customerId: this.customerId,
        reason,
        ...(declineCode ? { declineCode } : {}),
      },
    });
  }

  /** Records the outcome of the saga's current step; confirms or cancels the order when it ends there. */
  recordOutcome(outcome: StepOutcome, now: number, policy: SagaPolicy = DEFAULT_SAGA_POLICY): void {
    this.#applySaga(advanceSaga(this.#saga, outcome, now, policy), now);
  }

  /**
   * The customer (or an admin) asks to cancel. `already-cancelled` when it is; `unchanged` when a
   * cancellation is already under way; else the saga now compensates (or will, after its step in flight).
   */
  requestCancel(now: number): 'already-cancelled' | 'unchanged' | 'requested' {
    const result = requestCancel(this.#saga, now);
    if (result.kind === 'requested') this.#applySaga(result.transition, now);
    return result.kind;
  }

  /** The events recorded since the last call, oldest first. */
  pullEvents(): OrderEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /** The order as the API shows it. */
  toView(): OrderView {
    return {
      id: this.id,
      status: this.#status,
      items: this.lines.map((l) => ({ ...l })),
      total: this.total,
      currency: this.currency,
      shippingAddress: this.shippingAddress,
      cancelReason: this.#cancelReason,
      declineCode: this.#declineCode,
      createdAt: new Date(this.createdAt).toISOString(),
      updatedAt: new Date(this.#updatedAt).toISOString(),
      // The cast only because the contract's unions built with `map` read as `never` to TypeScript.
    } as OrderView;
  }

  #applySaga(transition: { saga: SagaState; ending: 'confirm' | 'cancel' | null }, now: number): void {
    this.#saga = transition.saga;
    if (transition.ending === 'confirm') this.confirm(now);
    if (transition.ending === 'cancel') {
      const cancellation = transition.saga.cancellation;
      if (!cancellation) throw new OrderStateError('a saga ended in cancellation without a reason');
      this.cancel(cancellation.reason, cancellation.declineCode, now);
    }
  }
}

/** The sum of the lines' totals. */
function sumLines(lines: readonly OrderLine[]): number {
  return lines.reduce((sum, line) => sum + line.lineTotal, 0);
}
