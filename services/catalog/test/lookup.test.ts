import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Problem, ProductFactsList } from '@bazaar/contracts';
import { addCategories, asService, asUser, catalogApp, startIdentity } from './support/apps.ts';
import { createTestDatabase } from './support/database.ts';

test('POST /internal/products/lookup', async (t) => {
  const database = await createTestDatabase(t);
  if (!database) return;
  const identity = await startIdentity();
  const { app } = await catalogApp(database.pool, identity);
  const db = database.pool;
  const lookup = (ids: unknown, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/internal/products/lookup', headers, payload: { ids } });
  try {
    await addCategories(db);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO products (merchant_id, name, price, currency, category, hidden)
       VALUES ('m-1', 'Shown', 1200, 'USD', 'books', false), ('m-2', 'Hidden', 800, 'USD', 'toys', true)
       RETURNING id`,
    );
    const [shown, hidden] = rows.map((r) => r.id) as [string, string];

    await t.test(
      'answers the facts of each product asked for, hidden ones marked hidden, in order',
      async () => {
        const unknown = randomUUID();
        const res = await lookup(
          [hidden, unknown, shown, 'not-a-uuid', hidden],
          await asService(identity, 'cart'),
        );
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json<ProductFactsList>(), {
          items: [
            { id: hidden, merchantId: 'm-2', name: 'Hidden', price: 800, currency: 'USD', hidden: true },
            { id: shown, merchantId: 'm-1', name: 'Shown', price: 1200, currency: 'USD', hidden: false },
          ],
        });
      },
    );

    await t.test('orders and inventory may ask too', async () => {
      for (const svc of ['orders', 'inventory']) {
        const res = await lookup([shown], await asService(identity, svc));
        assert.equal(res.statusCode, 200, svc);
        assert.equal(res.json<ProductFactsList>().items.length, 1);
      }
    });

    await t.test('refuses users (even admins), other services, and tokens for another service', async () => {
      const refusals = [
        [await lookup([shown], {}), 401],
        [await lookup([shown], await asUser(identity, randomUUID(), 'admin')), 401],
        [await lookup([shown], await asService(identity, 'payments')), 403],
        [await lookup([shown], await asService(identity, 'cart', 'inventory')), 401],
      ] as const;
      for (const [res, status] of refusals) {
        assert.equal(res.statusCode, status, res.body);
        assert.ok(!res.body.includes('Shown'));
      }
    });

    await t.test('an empty or oversized list is a 400', async () => {
      const cart = await asService(identity, 'cart');
      for (const ids of [[], Array.from({ length: 101 }, () => randomUUID())]) {
        const res = await lookup(ids, cart);
        assert.equal(res.statusCode, 400);
        assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED');
      }
    });
  } finally {
    await app.close();
    await identity.close();
    await database.drop();
  }
});
