import type { Queryable } from './db.ts';

/**
 * The PostgreSQL channel every change of a product is announced on, payload the product id. Each
 * catalog instance listens on it to drop its cached copy; a notice is delivered only when the
 * transaction that sent it commits, so nobody drops a copy for a change that was rolled back.
 */
export const PRODUCT_CHANGED_CHANNEL = 'catalog_product_changed';

/** Announces, inside the transaction `tx` of the change, that product `productId` changed. */
export async function announceProductChanged(tx: Queryable, productId: string): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [PRODUCT_CHANGED_CHANNEL, productId]);
}
