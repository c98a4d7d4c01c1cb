import { type Static, type TSchema, Type } from 'typebox';

/**
 * An event as it travels on the bus and sits in outboxes and inboxes. `type` names what happened
 * (`<service>.<noun>-<verb>`), `version` its data schema; a consumer reads only the versions it
 * knows. `subject` is the id of the thing the event is about (product, order): the relay keeps each
 * service's events in order, and consumers use it for their own ordering guards.
 */
export const EventEnvelope = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String({ pattern: '^[a-z]+\\.[a-z]+(-[a-z]+)*$' }),
  version: Type.Integer({ minimum: 1 }),
  source: Type.String(),
  subject: Type.String(),
  occurredAt: Type.String({ format: 'date-time' }),
  /** W3C trace context of the work that raised the event, so traces cross the bus. */
  traceparent: Type.Optional(Type.String()),
  data: Type.Unknown(),
});
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  source: string;
  subject: string;
  occurredAt: string;
  traceparent?: string;
  data: T;
}

/** One declared event: its type, version and data schema. */
export interface EventSpec<S extends TSchema = TSchema> {
  type: string;
  version: number;
  data: S;
}

function event<S extends TSchema>(type: string, version: number, data: S): EventSpec<S> {
  return { type, version, data };
}

const Line = Type.Object({ productId: Type.String(), quantity: Type.Integer({ minimum: 1 }) });

/**
 * Every event Bazaar publishes. Adding a field is compatible; changing or removing one is a new
 * version, published beside the old one until every consumer reads the new.
 */
export const Events = {
  /** A product was published, changed or hidden (catalog). Inventory learns owners from it. */
  productChanged: event(
    'catalog.product-changed',
    1,
    Type.Object({
      productId: Type.String(),
      merchantId: Type.String(),
      name: Type.String(),
      price: Type.Integer(),
      currency: Type.String(),
      hidden: Type.Boolean(),
      change: Type.Union([Type.Literal('created'), Type.Literal('changed'), Type.Literal('hidden')]),
    }),
  ),
  /** A product's price changed (catalog). */
  priceChanged: event(
    'catalog.price-changed',
    1,
    Type.Object({
      productId: Type.String(),
      oldPrice: Type.Integer(),
      newPrice: Type.Integer(),
      currency: Type.String(),
    }),
  ),
  /**
   * A product's available stock moved (inventory; a commit, which turns reserved units into sold
   * ones, announces nothing). `revision` grows with every movement of that product, so a consumer
   * keeps the newest and ignores a late, older one; revisions may skip.
   */
  stockChanged: event(
    'inventory.stock-changed',
    1,
    Type.Object({
      productId: Type.String(),
      available: Type.Integer(),
      revision: Type.Integer(),
    }),
  ),
  /** A reservation ran out before its order committed it; its stock is available again (inventory). */
  reservationExpired: event('inventory.reservation-expired', 1, Type.Object({ orderId: Type.String() })),
  /** A payment changed state (payments). */
  paymentChanged: event(
    'payments.payment-changed',
    1,
    Type.Object({
      paymentId: Type.String(),
      orderId: Type.String(),
      status: Type.String(),
      amount: Type.Integer(),
      currency: Type.String(),
    }),
  ),
  /** An order was confirmed (orders): stock committed, payment captured. Cart removes its lines. */
  orderConfirmed: event(
    'orders.order-confirmed',
    1,
    Type.Object({
      orderId: Type.String(),
      customerId: Type.String(),
      items: Type.Array(Line),
      total: Type.Integer(),
      currency: Type.String(),
    }),
  ),
  /** An order was cancelled (orders), with the reason. */
  orderCancelled: event(
    'orders.order-cancelled',
    1,
    Type.Object({
      orderId: Type.String(),
      customerId: Type.String(),
      reason: Type.String(),
      declineCode: Type.Optional(Type.String()),
    }),
  ),
} as const;

export type ProductChangedEvent = Static<typeof Events.productChanged.data>;
export type PriceChangedEvent = Static<typeof Events.priceChanged.data>;
export type StockChangedEvent = Static<typeof Events.stockChanged.data>;
export type ReservationExpiredEvent = Static<typeof Events.reservationExpired.data>;
export type PaymentChangedEvent = Static<typeof Events.paymentChanged.data>;
export type OrderConfirmedEvent = Static<typeof Events.orderConfirmed.data>;
export type OrderCancelledEvent = Static<typeof Events.orderCancelled.data>;
