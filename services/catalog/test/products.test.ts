import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Product } from '@bazaar/contracts';
import { outboxWriter } from '@bazaar/kit';
import type pg from 'pg';
import { InvalidCursorError } from '../src/domain/cursor.ts';
import {
  findProduct,
  type ListProductsOptions,
  listCategories,
  listProducts,
} from '../src/store/products.ts';
import { seedCatalog } from '../src/store/seed.ts';
import { seedCategories, seedProducts } from '../src/store/seed-data.ts';
import { createTestDatabase } from './support/database.ts';

const MERCHANT = '5eed0000-0000-4000-8000-00000000beef';
const events = outboxWriter('catalog');
const OTHER_MERCHANT = '0a7e0000-0000-4000-8000-000000000001';

/** Every page of a listing, following `nextCursor` until it is null. */
async function walk(db: pg.Pool, options: ListProductsOptions): Promise<{ items: Product[]; pages: number }> {
  const items: Product[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await listProducts(db, { ...options, ...(cursor ? { cursor } : {}) });
    assert.ok(page.items.length <= (options.limit ?? 20));
    if (page.nextCursor !== null)
      assert.equal(page.items.length, options.limit, 'only the last page is short');
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    pages++;
    assert.ok(pages < 1000, 'pagination does not end');
  } while (cursor);
  return { items, pages };
}

function assertNoDuplicates(items: Product[]): void {
  const ids = items.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'a product appeared on two pages');
}

test('catalog store against a real PostgreSQL', async (t) => {
  const database = await createTestDatabase(t);
  if (!database) return;
  const db = database.pool;

  try {
    const now = new Date('2025-06-01T12:00:00.000Z');
    assert.equal(
      await seedCatalog(db, { merchantId: MERCHANT, currency: 'USD', now, events }),
      seedProducts.length,
    );

    // Products sharing one timestamp (also with the 31st seeded product), so keyset pagination must
    // break ties on id.
    await db.query(
      `INSERT INTO products (merchant_id, name, description, price, currency, category, created_at, updated_at)
       SELECT $1, 'Espresso Tamper No. ' || n, 'A flat steel tamper for espresso and coffee.', 2000 + n, 'USD',
              'kitchen', $2::timestamptz - interval '30 seconds', $2::timestamptz - interval '30 seconds'
       FROM generate_series(1, 7) AS n`,
      [OTHER_MERCHANT, now],
    );
    const { rows: hiddenRows } = await db.query<{ id: string }>(
      `INSERT INTO products (merchant_id, name, description, price, currency, category, hidden)
       VALUES ($1, 'Discontinued Coffee Percolator', 'A stovetop coffee percolator.', 1999, 'USD', 'kitchen', true)
       RETURNING id`,
      [MERCHANT],
    );
    const hiddenId = hiddenRows[0]!.id;
    const visible = seedProducts.length + 7;

    await t.test('a second seed leaves a filled catalog alone', async () => {
      assert.equal(await seedCatalog(db, { merchantId: MERCHANT, currency: 'USD', events }), 0);
    });

    await t.test('the first page is the newest products, in the contract shape', async () => {
      const page = await listProducts(db, {});
      assert.equal(page.items.length, 20);
      assert.ok(page.nextCursor);
      const first = page.items[0]!;
      assert.equal(first.name, seedProducts[0]!.name);
      assert.equal(first.merchantId, MERCHANT);
      assert.equal(first.currency, 'USD');
      assert.equal(first.createdAt, now.toISOString());
      assert.equal(first.available, null);
      assert.equal(first.availableAsOf, null);
    });

    await t.test(
      'paging through everything shows every visible product exactly once, newest first',
      async () => {
        for (const limit of [1, 7, 20, 100]) {
          const { items, pages } = await walk(db, { limit });
          assertNoDuplicates(items);
          assert.equal(items.length, visible, `limit ${limit}`);
          assert.equal(pages, Math.ceil(visible / limit), 'no empty trailing page');
          for (let i = 1; i < items.length; i++) {
            const [a, b] = [items[i - 1]!, items[i]!];
            assert.ok(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id), 'order');
          }
        }
      },
    );

    await t.test('the category filter lists only that category, across pages', async () => {
      const expected = seedProducts.filter((p) => p.category === 'books').length;
      const { items } = await walk(db, { limit: 3, category: 'books' });
      assertNoDuplicates(items);
      assert.equal(items.length, expected);
      assert.ok(items.every((p) => p.category === 'books'));
      const kitchen = await walk(db, { limit: 4, category: 'kitchen' });
      assertNoDuplicates(kitchen.items);
      assert.equal(kitchen.items.length, seedProducts.filter((p) => p.category === 'kitchen').length + 7);
    });

    await t.test('the merchant filter lists only that merchant', async () => {
      const { items } = await walk(db, { limit: 5, merchantId: OTHER_MERCHANT });
      assert.equal(items.length, 7);
      assert.ok(items.every((p) => p.merchantId === OTHER_MERCHANT));
    });

    await t.test('q=coffee finds the coffee products and nothing unrelated, best match first', async () => {
      const page = await listProducts(db, { q: 'coffee', limit: 100 });
      assert.equal(page.nextCursor, null);
      const names = page.items.map((p) => p.name);
      for (const p of seedProducts.filter((p) => /coffee/i.test(p.name))) {
        assert.ok(names.includes(p.name), `missing ${p.name}`);
      }
      for (const p of page.items) {
        assert.match(`${p.name} ${p.description}`, /coffee/i, `${p.name} is not about coffee`);
      }
      assert.ok(!names.includes('Noise-Cancelling Wireless Headphones'));
      // A name match (weight A) outranks a description-only match (weight B).
      assert.match(page.items[0]!.name, /coffee/i);
      const mugs = names.indexOf('Stoneware Mug Set of Four');
      assert.ok(mugs > names.indexOf('Cold Brew Coffee Maker'), 'the mug set only mentions coffee');
    });

    await t.test('search results page without duplicates, in the same order as one big page', async () => {
      const all = await listProducts(db, { q: 'coffee', limit: 100 });
      for (const limit of [1, 2, 5]) {
        const { items } = await walk(db, { q: 'coffee', limit });
        assertNoDuplicates(items);
        assert.deepEqual(
          items.map((p) => p.id),
          all.items.map((p) => p.id),
          `limit ${limit}`,
        );
      }
      const { items } = await walk(db, { q: 'coffee', limit: 1, category: 'beauty' });
      assert.deepEqual(
        items.map((p) => p.name),
        ['Arabica Coffee Body Scrub'],
      );
    });

    await t.test('web-search syntax works: phrases, OR and exclusions', async () => {
      const phrase = await listProducts(db, { q: '"cold brew"' });
      assert.deepEqual(
        phrase.items.map((p) => p.name),
        ['Cold Brew Coffee Maker'],
      );
      const without = await listProducts(db, { q: 'coffee -grinder', limit: 100 });
      assert.ok(without.items.length > 0);
      assert.ok(without.items.every((p) => !/grinder/i.test(p.name)));
      const either = await listProducts(db, { q: 'tent or hammock', limit: 100 });
      assert.equal(either.items.length, 2);
      const stopwords = await listProducts(db, { q: 'the' });
      assert.deepEqual(stopwords, { items: [], nextCursor: null });
    });

    await t.test(
      'a hidden product is not listed, and is found only marked hidden (for its owner and admins)',
      async () => {
        const everything = await walk(db, { limit: 100 });
        assert.ok(!everything.items.some((p) => p.id === hiddenId));
        const search = await listProducts(db, { q: 'percolator' });
        assert.deepEqual(search.items, []);
        assert.equal((await findProduct(db, hiddenId))?.hidden, true);
      },
    );

    await t.test(
      'findProduct finds a product by id and answers null for unknown or malformed ids',
      async () => {
        const [listed] = (await listProducts(db, { limit: 1 })).items;
        assert.deepEqual(await findProduct(db, listed!.id), { product: listed, hidden: false });
        assert.equal(await findProduct(db, '00000000-0000-4000-8000-000000000000'), null);
        assert.equal(await findProduct(db, 'not-a-uuid'), null);
        assert.equal(await findProduct(db, "'; DROP TABLE products; --"), null);
      },
    );

    await t.test('a cursor from a listing is refused by a search', async () => {
      const page = await listProducts(db, { limit: 2 });
      await assert.rejects(listProducts(db, { q: 'coffee', cursor: page.nextCursor! }), InvalidCursorError);
      await assert.rejects(listProducts(db, { cursor: 'garbage' }), InvalidCursorError);
    });

    await t.test('categories are listed with their names', async () => {
      const categories = await listCategories(db);
      assert.equal(categories.length, seedCategories.length);
      assert.ok(categories.some((c) => c.slug === 'toys' && c.name === 'Toys & Games'));
    });

    await t.test('the schema refuses negative prices and unknown categories', async () => {
      await assert.rejects(
        db.query(
          `INSERT INTO products (merchant_id, name, price, currency, category) VALUES ($1, 'x', -1, 'USD', 'books')`,
          [MERCHANT],
        ),
        /price_check/,
      );
      await assert.rejects(
        db.query(
          `INSERT INTO products (merchant_id, name, price, currency, category) VALUES ($1, 'x', 1, 'USD', 'nope')`,
          [MERCHANT],
        ),
        /foreign key/,
      );
    });
  } finally {
    await database.drop();
  }
});
