import type { Queryable } from '@bazaar/kit';

/** The merchant who owns a product, as far as inventory knows; null when it has not heard yet. */
export async function findOwner(db: Queryable, productId: string): Promise<string | null> {
  const { rows } = await db.query<{ merchant_id: string }>(
    'SELECT merchant_id FROM product_owners WHERE product_id = $1',
    [productId],
  );
  return rows[0]?.merchant_id ?? null;
}

/**
 * Records that `merchantId` owns `productId` as of `asOf` (an event's occurredAt, or the time of a
 * lookup at catalog). The newest fact wins: a late, older one changes nothing.
 */
export async function recordOwner(
  db: Queryable,
  owner: { productId: string; merchantId: string; asOf: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO product_owners AS o (product_id, merchant_id, as_of) VALUES ($1, $2, $3)
     ON CONFLICT (product_id) DO UPDATE SET merchant_id = EXCLUDED.merchant_id, as_of = EXCLUDED.as_of
     WHERE o.as_of <= EXCLUDED.as_of`,
    [owner.productId, owner.merchantId, owner.asOf],
  );
}
