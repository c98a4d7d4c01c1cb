import type { Queryable } from '@bazaar/kit';
import type { StoredLine } from '../domain/cart.ts';

/**
 * Locks a customer's cart until the transaction ends, creating it when `create` is set; answers
 * whether the cart exists. Every change to a cart takes this lock first, so the line count a
 * change sees is the one it commits against.
 */
export async function lockCart(tx: Queryable, customerId: string, create: boolean): Promise<boolean> {
  if (create) {
    await tx.query(
      `INSERT INTO carts (customer_id) VALUES ($1)
       ON CONFLICT (customer_id) DO UPDATE SET updated_at = now()`,
      [customerId],
    );
    return true;
  }
  const { rows } = await tx.query('SELECT 1 FROM carts WHERE customer_id = $1 FOR UPDATE', [customerId]);
  return rows.length > 0;
}

/** A customer's lines, in the order they were first added. */
export async function readLines(db: Queryable, customerId: string): Promise<StoredLine[]> {
  const { rows } = await db.query<{ product_id: string; quantity: number }>(
    'SELECT product_id, quantity FROM cart_lines WHERE customer_id = $1 ORDER BY added_at, product_id',
    [customerId],
  );
  return rows.map((r) => ({ productId: r.product_id, quantity: r.quantity }));
}

/** Sets a line's quantity, adding the line when it is new (under the cart's lock). */
export async function setLine(tx: Queryable, customerId: string, line: StoredLine): Promise<void> {
  await tx.query(
    `INSERT INTO cart_lines (customer_id, product_id, quantity) VALUES ($1, $2, $3)
     ON CONFLICT (customer_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity`,
    [customerId, line.productId, line.quantity],
  );
}

/** Removes lines; a line that is not there is no error. */
export async function removeLines(tx: Queryable, customerId: string, productIds: string[]): Promise<void> {
  if (productIds.length === 0) return;
  await tx.query('DELETE FROM cart_lines WHERE customer_id = $1 AND product_id = ANY($2::text[])', [
    customerId,
    productIds,
  ]);
}

/** Empties a customer's cart. */
export async function clearCart(db: Queryable, customerId: string): Promise<void> {
  await db.query('DELETE FROM carts WHERE customer_id = $1', [customerId]);
}
