import { Events, type NewProduct, type Product, type ProductChanges } from '@bazaar/contracts';
import {
  AppError,
  assertOwnerOrAdmin,
  type EventWriter,
  isOwnerOrAdmin,
  type Principals,
  requireUser,
  withTransaction,
} from '@bazaar/kit';
import type pg from 'pg';
import type { ProductCache } from './cache/product-cache.ts';
import { isUuid } from './domain/ids.ts';
import { type ProductChange, priceChangedData, productChangedData } from './domain/product-events.ts';
import { announceProductChanged } from './store/change-notices.ts';
import type { Queryable } from './store/db.ts';
import { categoryExists, findProduct, hideProduct, insertProduct, updateProduct } from './store/products.ts';

/** What the catalog's product operations need. */
export interface CatalogOptions {
  db: pg.Pool;
  events: EventWriter;
  cache: ProductCache;
  /** The store's currency; every product is priced in it. */
  currency: string;
}

/**
 * Products one at a time: shoppers read them (through the cache), merchants publish, change and
 * hide their own (admins any). Each change commits together with its events and its change notice,
 * and the cache of this instance drops the product right after the commit.
 */
export class Catalog {
  readonly #db: pg.Pool;
  readonly #events: EventWriter;
  readonly #cache: ProductCache;
  readonly #currency: string;

  constructor({ db, events, cache, currency }: CatalogOptions) {
    this.#db = db;
    this.#events = events;
    this.#cache = cache;
    this.#currency = currency;
  }

  /** A visible product; a hidden one only to its merchant and admins, to anyone else it does not exist. */
  async show(who: Principals, id: string): Promise<Product> {
    if (!isUuid(id)) throw notFound(id);
    // One spelling per product, the one change notices carry, so every cached copy can be dropped.
    const key = id.toLowerCase();
    const found = await this.#cache.read(key, () => findProduct(this.#db, key));
    if (!found || (found.hidden && !isOwnerOrAdmin(who, found.product.merchantId))) throw notFound(id);
    return found.product;
  }

  /** Publishes a product of `merchantId`, priced in the store's currency. */
  async publish(merchantId: string, product: NewProduct): Promise<Product> {
    return withTransaction(this.#db, async (tx) => {
      await checkCategory(tx, product.category);
      const created = await insertProduct(tx, { ...product, merchantId, currency: this.#currency });
      await this.#announce(tx, created, false, 'created');
      return created;
    });
  }

  /** Applies `changes` to a product its caller may change; a price move is announced on its own too. */
  async change(who: Principals, id: string, changes: ProductChanges): Promise<Product> {
    requireUser(who);
    const changed = await withTransaction(this.#db, async (tx) => {
      const before = await this.#owned(tx, who, id);
      if (Object.values(changes).every((value) => value === undefined)) return before.product;
      if (changes.category !== undefined) await checkCategory(tx, changes.category);
      const after = await updateProduct(tx, id, changes);
      if (!after) throw notFound(id);
      await this.#announce(tx, after, before.hidden, 'changed');
      const price = priceChangedData(before.product, after);
      if (price) await this.#events.publish(tx, Events.priceChanged, after.id, price);
      return after;
    });
    await this.#cache.invalidate(changed.id);
    return changed;
  }

  /** Hides a product its caller may change from browsing; orders keep it. Hiding twice is one change. */
  async hide(who: Principals, id: string): Promise<void> {
    requireUser(who);
    await withTransaction(this.#db, async (tx) => {
      await this.#owned(tx, who, id);
      const hidden = await hideProduct(tx, id);
      if (hidden) await this.#announce(tx, hidden, true, 'hidden');
    });
    await this.#cache.invalidate(id.toLowerCase());
  }

  /** The product, locked until the transaction ends, when `who` may change it; else 404 as if absent. */
  async #owned(tx: Queryable, who: Principals, id: string) {
    const found = await findProduct(tx, id, { lock: true });
    if (!found) throw notFound(id);
    assertOwnerOrAdmin(who, found.product.merchantId, 'PRODUCT_NOT_FOUND', `There is no product ${id}.`);
    return found;
  }

  async #announce(tx: Queryable, product: Product, hidden: boolean, change: ProductChange): Promise<void> {
    await this.#events.publish(
      tx,
      Events.productChanged,
      product.id,
      productChangedData(product, hidden, change),
    );
    await announceProductChanged(tx, product.id);
  }
}

async function checkCategory(db: Queryable, slug: string): Promise<void> {
  if (!(await categoryExists(db, slug))) {
    throw new AppError('VALIDATION_FAILED', 'The request has invalid fields.', {
      errors: [{ path: 'body/category', message: `there is no category "${slug}" (see /api/categories)` }],
    });
  }
}

function notFound(id: string): AppError {
  return new AppError('PRODUCT_NOT_FOUND', `There is no product ${id}.`);
}
