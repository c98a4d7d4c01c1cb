import { type Static, Type } from 'typebox';

/*
 * The shop's objects and APIs (CONTRACT "Objects" and "Routes"), and the internal APIs the
 * checkout saga calls. Internal routes live under `/internal/`, take a service token (never a user
 * token), and every state-changing one is idempotent on the order id, so a retried or repeated call
 * changes nothing twice. Money is integer minor units.
 */

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** A quantity in a cart line or an order (CONTRACT: at most 99 per line). */
export const Quantity = Type.Integer({ minimum: 1, maximum: 99 });

// ---- Catalog (internal) --------------------------------------------------------------------

/** `POST /internal/products/lookup` body (cart, orders, inventory). */
export const ProductLookup = Type.Object(
  { ids: Type.Array(Id, { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);
export type ProductLookup = Static<typeof ProductLookup>;

/** What the shop needs to know of a product; hidden ones are included, unknown ids left out. */
export const ProductFacts = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  name: Type.String(),
  price: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  hidden: Type.Boolean(),
});
export type ProductFacts = Static<typeof ProductFacts>;
export const ProductFactsList = Type.Object({ items: Type.Array(ProductFacts) });
export type ProductFactsList = Static<typeof ProductFactsList>;

// ---- Inventory -----------------------------------------------------------------------------

/** `GET /api/inventory/:productId`; `onHand` and `reserved` only for the owner and admins. */
export const Stock = Type.Object(
  {
    productId: Type.String(),
    available: Type.Integer({ minimum: 0 }),
    onHand: Type.Optional(Type.Integer({ minimum: 0 })),
    reserved: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { $id: 'Stock' },
);
export type Stock = Static<typeof Stock>;

/** `PUT /api/inventory/:productId` body. */
export const StockSetting = Type.Object(
  { onHand: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }) },
  { additionalProperties: false },
);
export type StockSetting = Static<typeof StockSetting>;

export const OrderLineRef = Type.Object(
  { productId: Id, quantity: Quantity },
  { additionalProperties: false },
);
export type OrderLineRef = Static<typeof OrderLineRef>;

/** `POST /internal/reservations` body (orders). Idempotent on `orderId`. */
export const ReservationRequest = Type.Object(
  {
    orderId: Id,
    items: Type.Array(OrderLineRef, { minItems: 1, maxItems: 100 }),
    /** How long the reservation holds (default: inventory's setting, 10 minutes). */
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export type ReservationRequest = Static<typeof ReservationRequest>;

/**
 * A reservation's state. `REJECTED`: not enough stock (`productId` names the first short line),
 * nothing held. `RELEASED` also stands for a release that came before any reservation: a late
 * reserve of that order then holds nothing.
 */
export const ReservationStatus = Type.Union([
  Type.Literal('RESERVED'),
  Type.Literal('REJECTED'),
  Type.Literal('COMMITTED'),
  Type.Literal('RELEASED'),
  Type.Literal('EXPIRED'),
  Type.Literal('RETURNED'),
]);
export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'COMMITTED' | 'RELEASED' | 'EXPIRED' | 'RETURNED';

/** Answer of every reservation call: the reservation as it is now. */
export const Reservation = Type.Object({
  orderId: Type.String(),
  status: ReservationStatus,
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  reason: Type.Optional(Type.Literal('OUT_OF_STOCK')),
  productId: Type.Optional(Type.String()),
});
export type Reservation = Static<typeof Reservation>;

// ---- Cart ----------------------------------------------------------------------------------

export const CartLine = Type.Object({
  productId: Type.String(),
  name: Type.String(),
  price: Type.Integer({ minimum: 0 }),
  quantity: Type.Integer({ minimum: 1 }),
  lineTotal: Type.Integer({ minimum: 0 }),
});
export type CartLine = Static<typeof CartLine>;

/** `GET /api/cart`: prices as they are now. Lines whose product was hidden since are left out. */
export const Cart = Type.Object(
  { items: Type.Array(CartLine), total: Type.Integer({ minimum: 0 }), currency: Type.String() },
  { $id: 'Cart' },
);
export type Cart = Static<typeof Cart>;

/** `PUT /api/cart/items/:productId` body: 0 removes the line. */
export const CartLineSetting = Type.Object(
  { quantity: Type.Integer({ minimum: 0, maximum: 99 }) },
  { additionalProperties: false },
);
export type CartLineSetting = Static<typeof CartLineSetting>;

/** `GET /internal/carts/:customerId` (orders): the lines as stored, without prices. */
export const CartContents = Type.Object({ items: Type.Array(OrderLineRef) });
export type CartContents = Static<typeof CartContents>;

// ---- Payments ------------------------------------------------------------------------------

export const PaymentStatus = Type.Union([
  Type.Literal('AUTHORIZED'),
  Type.Literal('DECLINED'),
  Type.Literal('CAPTURED'),
  Type.Literal('VOIDED'),
  Type.Literal('REFUNDED'),
]);
export type PaymentStatus = 'AUTHORIZED' | 'DECLINED' | 'CAPTURED' | 'VOIDED' | 'REFUNDED';
export const DeclineCode = Type.Union([Type.Literal('card_declined'), Type.Literal('insufficient_funds')]);
export type DeclineCode = 'card_declined' | 'insufficient_funds';

/** A payment (`GET /api/payments?orderId=` items, and every internal payment call's answer). */
export const Payment = Type.Object(
  {
    id: Type.String(),
    orderId: Type.String(),
    status: PaymentStatus,
    amount: Type.Integer({ minimum: 0 }),
    currency: Type.String(),
    declineCode: Type.Optional(DeclineCode),
  },
  { $id: 'Payment' },
);
export type Payment = Static<typeof Payment>;
export const PaymentList = Type.Object({
  items: Type.Array(Payment),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

/**
 * `POST /internal/payments` (orders): authorize the order's amount. Idempotent on `orderId`: a
 * repeat answers the payment as it is. A provider error is a 503 problem and records nothing
 * authorized; a void that came first leaves a `VOIDED` payment of 0 that no later authorize changes.
 */
export const AuthorizationRequest = Type.Object(
  {
    orderId: Id,
    customerId: Id,
    amount: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    paymentToken: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export type AuthorizationRequest = Static<typeof AuthorizationRequest>;

/** Simulated provider settings (payments' config, later the config center's). */
export const ProviderSettings = Type.Object({
  declineRate: Type.Number({ minimum: 0, maximum: 1 }),
  errorRate: Type.Number({ minimum: 0, maximum: 1 }),
  latencyMs: Type.Integer({ minimum: 0, maximum: 60_000 }),
});
export type ProviderSettings = Static<typeof ProviderSettings>;

// ---- Orders --------------------------------------------------------------------------------

export const Address = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
  },
  { additionalProperties: false, $id: 'Address' },
);
export type Address = Static<typeof Address>;

export const OrderStatus = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('CONFIRMED'),
  Type.Literal('CANCELLED'),
]);
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

export const CancelReason = Type.Union([
  Type.Literal('OUT_OF_STOCK'),
  Type.Literal('PRODUCT_UNAVAILABLE'),
  Type.Literal('PAYMENT_DECLINED'),
  Type.Literal('PAYMENT_UNAVAILABLE'),
  Type.Literal('RESERVATION_EXPIRED'),
  Type.Literal('CUSTOMER_CANCELLED'),
]);
export type CancelReason =
  | 'OUT_OF_STOCK'
  | 'PRODUCT_UNAVAILABLE'
  | 'PAYMENT_DECLINED'
  | 'PAYMENT_UNAVAILABLE'
  | 'RESERVATION_EXPIRED'
  | 'CUSTOMER_CANCELLED';

export const OrderLine = Type.Object({
  productId: Type.String(),
  name: Type.String(),
  price: Type.Integer({ minimum: 0 }),
  quantity: Type.Integer({ minimum: 1 }),
  lineTotal: Type.Integer({ minimum: 0 }),
  merchantId: Type.String(),
});
export type OrderLine = Static<typeof OrderLine>;

export const Order = Type.Object(
  {
    id: Type.String(),
    status: OrderStatus,
    items: Type.Array(OrderLine),
    total: Type.Integer({ minimum: 0 }),
    currency: Type.String(),
    shippingAddress: Address,
    cancelReason: Type.Union([CancelReason, Type.Null()]),
    declineCode: Type.Union([DeclineCode, Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Order' },
);
export type Order = Static<typeof Order>;

export const OrderPage = Type.Object({
  items: Type.Array(Order),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type OrderPage = Static<typeof OrderPage>;

/** `POST /api/orders` body, with the `Idempotency-Key` header. */
export const Checkout = Type.Object(
  {
    paymentToken: Type.String({ minLength: 1, maxLength: 128 }),
    shippingAddress: Address,
    expectedTotal: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type Checkout = Static<typeof Checkout>;

/** The `Idempotency-Key` header's form. */
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' });
