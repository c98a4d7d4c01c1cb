import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Category, Problem, Product, ProductPage } from '@bazaar/contracts';
import { buildApp, outboxWriter } from '@bazaar/kit';
import catalog from '../src/service.ts';
import { seedCatalog } from '../src/store/seed.ts';
import { seedCategories, seedProducts } from '../src/store/seed-data.ts';
import { createTestDatabase } from './support/database.ts';

const MERCHANT = '5eed0000-0000-4000-8000-00000000beef';
const events = outboxWriter('catalog');

test('catalog HTTP routes', async (t) => {
  const database = await createTestDatabase(t);
  if (!database) return;
  const { app } = await buildApp(catalog, { db: database.pool, env: {} });
  try {
    await seedCatalog(database.pool, { merchantId: MERCHANT, currency: 'USD', events });
    const get = (url: string) => app.inject({ method: 'GET', url });

    await t.test('GET /api/products pages through the whole catalog', async () => {
      const seen = new Set<string>();
      let url: string | null = '/api/products?limit=25';
      while (url) {
        const res = await get(url);
        assert.equal(res.statusCode, 200);
        const page = res.json<ProductPage>();
        for (const p of page.items) seen.add(p.id);
        url = page.nextCursor ? `/api/products?limit=25&cursor=${page.nextCursor}` : null;
      }
      assert.equal(seen.size, seedProducts.length);
      const first = (await get('/api/products')).json<ProductPage>();
      assert.equal(first.items.length, 20, 'limit defaults to 20');
      assert.deepEqual(Object.keys(first.items[0]!).sort(), [
        'available',
        'availableAsOf',
        'category',
        'createdAt',
        'currency',
        'description',
        'id',
        'imageUrl',
        'merchantId',
        'name',
        'price',
        'updatedAt',
      ]);
    });

    await t.test('GET /api/products?q=coffee&category=beauty finds the coffee scrub', async () => {
      const res = await get('/api/products?q=coffee&category=beauty');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(
        res.json<ProductPage>().items.map((p) => p.name),
        ['Arabica Coffee Body Scrub'],
      );
    });

    await t.test('an out-of-range or non-numeric limit is a 400 naming the field', async () => {
      for (const limit of ['1000', 'abc', '0']) {
        const res = await get(`/api/products?limit=${limit}`);
        assert.equal(res.statusCode, 400, `limit=${limit}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        const problem = res.json<Problem>();
        assert.equal(problem.code, 'VALIDATION_FAILED');
        assert.ok(
          problem.errors?.some((e) => e.path.endsWith('/limit')),
          JSON.stringify(problem.errors),
        );
      }
    });

    await t.test('a bad cursor is a 400 on the cursor field', async () => {
      const res = await get('/api/products?cursor=not-a-cursor');
      assert.equal(res.statusCode, 400);
      const problem = res.json<Problem>();
      assert.equal(problem.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['querystring/cursor'],
      );
    });

    await t.test(
      'GET /api/products/:id answers the product, and 404 for unknown or malformed ids',
      async () => {
        const [listed] = (await get('/api/products?limit=1')).json<ProductPage>().items;
        const found = await get(`/api/products/${listed!.id}`);
        assert.equal(found.statusCode, 200);
        assert.deepEqual(found.json<Product>(), listed);
        for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
          const res = await get(`/api/products/${id}`);
          assert.equal(res.statusCode, 404, id);
          assert.equal(res.json<Problem>().code, 'PRODUCT_NOT_FOUND');
        }
      },
    );

    await t.test('GET /api/categories lists every category', async () => {
      const res = await get('/api/categories');
      assert.equal(res.statusCode, 200);
      assert.equal(res.json<{ items: Category[] }>().items.length, seedCategories.length);
    });

    await t.test('the OpenAPI document describes the catalog routes', async () => {
      const doc = (await get('/openapi.json')).json<{ paths: Record<string, Record<string, unknown>> }>();
      const ops = Object.values(doc.paths).flatMap((methods) =>
        Object.values(methods).map((op) => (op as { operationId?: string }).operationId),
      );
      for (const id of ['listProducts', 'getProduct', 'listCategories']) assert.ok(ops.includes(id), id);
    });
  } finally {
    await app.close();
    await database.drop();
  }
});
