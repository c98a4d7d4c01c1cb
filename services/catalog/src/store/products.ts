import type {
  Category,
  NewProduct,
  Product,
  ProductChanges,
  ProductFacts,
  ProductPage,
} from '@bazaar/contracts';
import { decodeCursor, encodeCursor, type ProductCursor } from '../domain/cursor.ts';
import { isUuid } from '../domain/ids.ts';
import type { Queryable } from './db.ts';

/** Filters and position of one page of `listProducts`. */
export interface ListProductsOptions {
  /** Page size, 1–100; the route's schema has already enforced the range. */
  limit?: number;
  /** The `nextCursor` of the previous page. Throws `InvalidCursorError` when it is not one. */
  cursor?: string;
  /** Full-text search (web-search syntax); orders by relevance instead of newest first. */
  q?: string;
  category?: string;
  merchantId?: string;
}

interface ProductRow {
  id: string;
  merchant_id: string;
  name: string;
  description: string;
  price: number;
  currency: string;
  category: string;
  image_url: string | null;
  available: number | null;
  available_as_of: Date | null;
  created_at: Date;
  updated_at: Date;
  /** Only in searches: ts_rank rounded to 6 decimals, as numeric text, so it keys exactly. */
  rank?: string;
}

const COLUMNS = `p.id, p.merchant_id, p.name, p.description, p.price, p.currency, p.category, p.image_url,
  p.available, p.available_as_of, p.created_at, p.updated_at`;

/** A product found by id, with whether it is hidden (shown then only to its merchant and admins). */
export interface FoundProduct {
  product: Product;
  hidden: boolean;
}

/**
 * One page of visible products. Without `q`: newest first, keyset on (created_at, id). With `q`:
 * most relevant first, keyset on (rank rounded in SQL, id). Hidden products are never listed.
 */
export async function listProducts(db: Queryable, options: ListProductsOptions = {}): Promise<ProductPage> {
  const limit = options.limit ?? 20;
  const search = options.q !== undefined && options.q.trim() !== '' ? options.q : undefined;
  const after = options.cursor ? decodeCursor(options.cursor, search ? 'rank' : 'newest') : undefined;

  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = ['NOT p.hidden'];
  if (options.category !== undefined) where.push(`p.category = ${param(options.category)}`);
  if (options.merchantId !== undefined) where.push(`p.merchant_id = ${param(options.merchantId)}`);

  let sql: string;
  if (search === undefined) {
    if (after?.kind === 'newest') {
      where.push(`(p.created_at, p.id) < (${param(after.createdAt)}::timestamptz, ${param(after.id)}::uuid)`);
    }
    sql = `SELECT ${COLUMNS} FROM products p
      WHERE ${where.join(' AND ')}
      ORDER BY p.created_at DESC, p.id DESC
      LIMIT ${param(limit + 1)}`;
  } else {
    where.push('p.search @@ query');
    const resume =
      after?.kind === 'rank'
        ? `WHERE (rank, id) < (${param(after.rank)}::numeric, ${param(after.id)}::uuid)`
        : '';
    sql = `SELECT * FROM (
        SELECT ${COLUMNS}, round(ts_rank(p.search, query)::numeric, 6) AS rank
        FROM products p, websearch_to_tsquery('english', ${param(search)}) AS query
        WHERE ${where.join(' AND ')}
      ) ranked
      ${resume}
      ORDER BY rank DESC, id DESC
      LIMIT ${param(limit + 1)}`;
  }

  const { rows } = await db.query<ProductRow>(sql, values);
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    items: page.map(toProduct),
    nextCursor: hasMore && last ? encodeCursor(cursorAfter(last)) : null,
  };
}

/**
 * A product by id with its owner and whether it is hidden: for owner and admin checks. With `lock`
 * (inside a transaction) the row stays locked until it ends, so a change reads the values it replaces.
 */
export async function findProduct(
  db: Queryable,
  id: string,
  { lock = false }: { lock?: boolean } = {},
): Promise<FoundProduct | null> {
  if (!isUuid(id)) return null;
  const { rows } = await db.query<ProductRow & { hidden: boolean }>(
    `SELECT ${COLUMNS}, p.hidden FROM products p WHERE p.id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = rows[0];
  return row ? { product: toProduct(row), hidden: row.hidden } : null;
}

/**
 * What the shop needs of each of `ids` (cart, orders, inventory): hidden products included, ids
 * that name no product (or are no UUID) left out, in the order asked, each once.
 */
export async function lookupProducts(db: Queryable, ids: readonly string[]): Promise<ProductFacts[]> {
  const wanted = [...new Set(ids.map((id) => id.toLowerCase()).filter(isUuid))];
  if (wanted.length === 0) return [];
  const { rows } = await db.query<{
    id: string;
    merchant_id: string;
    name: string;
    price: number;
    currency: string;
    hidden: boolean;
  }>(
    `SELECT p.id, p.merchant_id, p.name, p.price, p.currency, p.hidden
     FROM unnest($1::uuid[]) WITH ORDINALITY AS w(id, ord) JOIN products p ON p.id = w.id
     ORDER BY w.ord`,
    [wanted],
  );
  return rows.map((r) => ({
    id: r.id,
    merchantId: r.merchant_id,
    name: r.name,
    price: r.price,
    currency: r.currency,
    hidden: r.hidden,
  }));
}

/** Whether a category exists. */
export async function categoryExists(db: Queryable, slug: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM categories WHERE slug = $1', [slug]);
  return rows.length > 0;
}

/** Stores a new product of `merchantId`, in the store's currency. */
export async function insertProduct(
  db: Queryable,
  product: NewProduct & { merchantId: string; currency: string },
): Promise<Product> {
  const { rows } = await db.query<ProductRow>(
    `INSERT INTO products AS p (merchant_id, name, description, price, currency, category, image_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [
      product.merchantId,
      product.name,
      product.description ?? '',
      product.price,
      product.currency,
      product.category,
      product.imageUrl ?? null,
    ],
  );
  return toProduct(rows[0]!);
}

/** Applies `changes` to a product (hidden or not); `null` when it does not exist. */
export async function updateProduct(
  db: Queryable,
  id: string,
  changes: ProductChanges,
): Promise<Product | null> {
  if (!isUuid(id)) return null;
  const columns: Record<keyof ProductChanges, string> = {
    name: 'name',
    description: 'description',
    price: 'price',
    category: 'category',
    imageUrl: 'image_url',
  };
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [field, column] of Object.entries(columns) as [keyof ProductChanges, string][]) {
    if (changes[field] === undefined) continue;
    values.push(changes[field]);
    sets.push(`${column} = $${values.length}`);
  }
  if (sets.length === 0) return (await findProduct(db, id))?.product ?? null;
  const { rows } = await db.query<ProductRow>(
    `UPDATE products AS p SET ${sets.join(', ')}, updated_at = now() WHERE p.id = $1 RETURNING ${COLUMNS}`,
    values,
  );
  return rows[0] ? toProduct(rows[0]) : null;
}

/**
 * Hides a visible product from browsing (orders keep it). Answers the product as hidden now, or
 * null when there is no such product or it was already hidden (then nothing changed).
 */
export async function hideProduct(db: Queryable, id: string): Promise<Product | null> {
  if (!isUuid(id)) return null;
  const { rows } = await db.query<ProductRow>(
    `UPDATE products AS p SET hidden = true, updated_at = now() WHERE p.id = $1 AND NOT p.hidden
     RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0] ? toProduct(rows[0]) : null;
}

/** Every category, by display name. */
export async function listCategories(db: Queryable): Promise<Category[]> {
  const { rows } = await db.query<Category>('SELECT slug, name FROM categories ORDER BY name, slug');
  return rows;
}

function cursorAfter(row: ProductRow): ProductCursor {
  return row.rank !== undefined
    ? { kind: 'rank', rank: row.rank, id: row.id }
    : { kind: 'newest', createdAt: row.created_at.toISOString(), id: row.id };
}

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    name: row.name,
    description: row.description,
    price: row.price,
    currency: row.currency,
    category: row.category,
    imageUrl: row.image_url,
    // Stock belongs to inventory: this is what its last event said (null until the first).
    available: row.available,
    availableAsOf: row.available_as_of?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
