import { type Static, Type } from 'typebox';

/** Inventory's own settings, on top of the kit's. */
export const InventoryConfig = Type.Object({
  /** How long a reservation holds when the request names no `ttlSeconds` (CONTRACT: 10 minutes). */
  BAZAAR_RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 600 }),
  /** How often the expiry job looks for reservations whose time is up. */
  BAZAAR_RESERVATION_EXPIRY_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1_000 }),
});
/** Inventory's settings as read from the environment. */
export type InventoryConfig = Static<typeof InventoryConfig>;
