import { type Static, Type } from 'typebox';

/** Orders' own settings, on top of the kit's (which include `BAZAAR_CURRENCY`). */
export const OrdersConfig = Type.Object({
  /** How long reservations hold; unset leaves inventory's default (10 minutes). */
  BAZAAR_RESERVATION_TTL_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  /** How long a checkout or cancellation request waits for the saga before answering 202. */
  BAZAAR_CHECKOUT_WAIT_MS: Type.Integer({ minimum: 0, maximum: 30_000, default: 2_000 }),
  /** How long payments may stay unavailable during authorization before the order is cancelled. */
  BAZAAR_PAYMENT_GIVE_UP_SECONDS: Type.Integer({ minimum: 1, maximum: 3_600, default: 15 }),
  /** How long a saga's lease outlives its owner's last step (a dead instance's sagas wait this long). */
  BAZAAR_SAGA_LEASE_SECONDS: Type.Integer({ minimum: 2, maximum: 600, default: 10 }),
  /** How often each instance looks for sagas to resume. */
  BAZAAR_SAGA_SWEEP_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 2_000 }),
});
/** Orders' settings. */
export type OrdersConfig = Static<typeof OrdersConfig>;
