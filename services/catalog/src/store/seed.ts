import { Events } from '@bazaar/contracts';
import type { EventWriter } from '@bazaar/kit';
import type { Queryable } from './db.ts';
import { seedCategories, seedProducts } from './seed-data.ts';

/** Who owns the demo products and what they cost in. */
export interface SeedOptions {
  merchantId: string;
  currency: string;
  /** The newest product's `created_at`; each next one is a second older. */
  now?: Date;
  /** Announces each seeded product, as publishing one does, so inventory learns its owner. */
  events: EventWriter;
}

/**
 * Fills an empty catalog with the demo categories and products. Categories are added whenever
 * missing; products only when the table is empty, so a merchant's edits survive restarts. Each
 * product is announced (`catalog.product-changed`, change `created`) through `events`: run it in a
 * transaction so that products and announcements commit together. Returns how many it wrote.
 */
export async function seedCatalog(
  db: Queryable,
  { merchantId, currency, now = new Date(), events }: SeedOptions,
): Promise<number> {
  await db.query(
    `INSERT INTO categories (slug, name)
     SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (slug) DO NOTHING`,
    [seedCategories.map((c) => c.slug), seedCategories.map((c) => c.name)],
  );
  const { rows } = await db.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM products) AS empty');
  if (!rows[0]?.empty) return 0;

  const { rows: seeded } = await db.query<{ id: string; name: string; price: number }>(
    `INSERT INTO products (merchant_id, currency, name, description, price, category, image_url, created_at, updated_at)
     SELECT $1, $2, t.name, t.description, t.price, t.category, t.image_url,
            $3::timestamptz - (t.ord - 1) * interval '1 second',
            $3::timestamptz - (t.ord - 1) * interval '1 second'
     FROM unnest($4::text[], $5::text[], $6::int[], $7::text[], $8::text[])
          WITH ORDINALITY AS t(name, description, price, category, image_url, ord)
     RETURNING id, name, price`,
    [
      merchantId,
      currency,
      now,
      seedProducts.map((p) => p.name),
      seedProducts.map((p) => p.description),
      seedProducts.map((p) => p.price),
      seedProducts.map((p) => p.category),
      seedProducts.map((p) => p.imageUrl),
    ],
  );
  for (const product of seeded) {
    await events.publish(db, Events.productChanged, product.id, {
      productId: product.id,
      merchantId,
      name: product.name,
      price: product.price,
      currency,
      hidden: false,
      change: 'created',
    });
  }
  return seeded.length;
}
