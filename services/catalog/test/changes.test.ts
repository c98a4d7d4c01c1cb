import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventEnvelope, Problem, Product } from '@bazaar/contracts';
import catalog from '../src/service.ts';
import { seedProducts } from '../src/store/seed-data.ts';
import { addCategories, asUser, catalogApp, startIdentity } from './support/apps.ts';
import { createTestDatabase } from './support/database.ts';

const MERCHANT = '0a7e0000-0000-4000-8000-00000000aaaa';
const OTHER_MERCHANT = '0a7e0000-0000-4000-8000-00000000bbbb';

test('merchant changes and the events that announce them', async (t) => {
  const database = await createTestDatabase(t);
  if (!database) return;
  const identity = await startIdentity();
  const { app } = await catalogApp(database.pool, identity);
  const db = database.pool;
  try {
    await addCategories(db);
    const merchant = await asUser(identity, MERCHANT, 'merchant');
    const otherMerchant = await asUser(identity, OTHER_MERCHANT, 'merchant');

    /** Events written since `after` (an outbox `seq`), oldest first. */
    const outboxSince = async (after: number) => {
      const { rows } = await db.query<{
        seq: string;
        type: string;
        subject: string;
        envelope: EventEnvelope;
      }>('SELECT seq, type, subject, envelope FROM kit_outbox WHERE seq > $1 ORDER BY seq', [after]);
      return rows;
    };
    const lastSeq = async () =>
      Number((await db.query('SELECT coalesce(max(seq), 0) AS seq FROM kit_outbox')).rows[0].seq);
    const publish = async (body: Record<string, unknown>, headers = merchant) =>
      app.inject({ method: 'POST', url: '/api/products', headers, payload: body });
    const patch = (id: string, body: Record<string, unknown>, headers = merchant) =>
      app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers, payload: body });
    const newProduct = async (name: string, price = 1500) => {
      const res = await publish({ name, price, category: 'books' });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<Product>();
    };

    await t.test('publishing a product writes catalog.product-changed (created) with its facts', async () => {
      const before = await lastSeq();
      const product = await newProduct('A Field Guide to Moss', 1999);
      const events = await outboxSince(before);
      assert.equal(events.length, 1);
      const [event] = events;
      assert.equal(event!.type, 'catalog.product-changed');
      assert.equal(event!.subject, product.id);
      assert.equal(event!.envelope.source, 'catalog');
      assert.equal(event!.envelope.version, 1);
      assert.deepEqual(event!.envelope.data, {
        productId: product.id,
        merchantId: MERCHANT,
        name: 'A Field Guide to Moss',
        price: 1999,
        currency: 'USD',
        hidden: false,
        change: 'created',
      });
    });

    await t.test('a refused change writes no event and changes nothing', async () => {
      const product = await newProduct('Pocket Atlas');
      const before = await lastSeq();
      const refusals = [
        [await publish({ name: 'Nowhere', price: 100, category: 'no-such-category' }), 400],
        [await publish({ name: 'Negative', price: -1, category: 'books' }), 400],
        [
          await publish(
            { name: 'Not mine', price: 1, category: 'books' },
            await asUser(identity, MERCHANT, 'customer'),
          ),
          403,
        ],
        [await patch(product.id, { category: 'no-such-category', price: 1 }), 400],
        [await patch(product.id, { price: -5 }), 400],
        [await patch(product.id, { name: 'Taken over' }, otherMerchant), 404],
        [
          await app.inject({ method: 'DELETE', url: `/api/products/${product.id}`, headers: otherMerchant }),
          404,
        ],
        [await app.inject({ method: 'DELETE', url: `/api/products/${product.id}` }), 401],
      ] as const;
      for (const [res, status] of refusals) assert.equal(res.statusCode, status, res.body);
      assert.deepEqual(await outboxSince(before), []);
      const shown = (await app.inject({ url: `/api/products/${product.id}` })).json<Product>();
      assert.deepEqual(shown, product);
      const { rows } = await db.query('SELECT count(*)::int AS n FROM products WHERE name IN ($1, $2)', [
        'Nowhere',
        'Negative',
      ]);
      assert.equal(rows[0].n, 0);
    });

    await t.test('changing the name announces the change and no price change', async () => {
      const product = await newProduct('Tide Tables');
      const before = await lastSeq();
      const res = await patch(product.id, { name: 'Tide Tables 2026' });
      assert.equal(res.statusCode, 200);
      const events = await outboxSince(before);
      assert.deepEqual(
        events.map((e) => e.type),
        ['catalog.product-changed'],
      );
      assert.deepEqual(events[0]!.envelope.data, {
        productId: product.id,
        merchantId: MERCHANT,
        name: 'Tide Tables 2026',
        price: product.price,
        currency: 'USD',
        hidden: false,
        change: 'changed',
      });
    });

    await t.test(
      'changing the price also announces catalog.price-changed with the old and new price',
      async () => {
        const product = await newProduct('Star Chart', 1200);
        const before = await lastSeq();
        const res = await patch(product.id, { price: 900 });
        assert.equal(res.statusCode, 200);
        assert.equal(res.json<Product>().price, 900);
        const events = await outboxSince(before);
        assert.deepEqual(
          events.map((e) => [e.type, e.subject]),
          [
            ['catalog.product-changed', product.id],
            ['catalog.price-changed', product.id],
          ],
        );
        assert.equal((events[0]!.envelope.data as { price: number }).price, 900);
        assert.deepEqual(events[1]!.envelope.data, {
          productId: product.id,
          oldPrice: 1200,
          newPrice: 900,
          currency: 'USD',
        });
      },
    );

    await t.test('setting the price it already has announces no price change', async () => {
      const product = await newProduct('Rain Gauge', 700);
      const before = await lastSeq();
      assert.equal((await patch(product.id, { price: 700, name: 'Rain Gauge, Glass' })).statusCode, 200);
      assert.deepEqual(
        (await outboxSince(before)).map((e) => e.type),
        ['catalog.product-changed'],
      );
    });

    await t.test('hiding announces the product hidden; hiding it again announces nothing', async () => {
      const product = await newProduct('Old Almanac');
      const before = await lastSeq();
      const hide = () =>
        app.inject({ method: 'DELETE', url: `/api/products/${product.id}`, headers: merchant });
      assert.equal((await hide()).statusCode, 204);
      const events = await outboxSince(before);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.type, 'catalog.product-changed');
      assert.deepEqual(events[0]!.envelope.data, {
        productId: product.id,
        merchantId: MERCHANT,
        name: 'Old Almanac',
        price: product.price,
        currency: 'USD',
        hidden: true,
        change: 'hidden',
      });
      const again = await lastSeq();
      assert.equal((await hide()).statusCode, 204);
      assert.deepEqual(await outboxSince(again), []);

      // Its merchant may still change it; the event still says it is hidden.
      assert.equal((await patch(product.id, { name: 'Old Almanac (archived)' })).statusCode, 200);
      const [changed] = await outboxSince(again);
      assert.equal((changed!.envelope.data as { hidden: boolean; change: string }).hidden, true);
      assert.equal((changed!.envelope.data as { change: string }).change, 'changed');
    });

    await t.test('an admin may change any product, and the event names its merchant', async () => {
      const product = await newProduct('Lighthouse Postcards', 500);
      const before = await lastSeq();
      const admin = await asUser(identity, '0a7e0000-0000-4000-8000-00000000adad', 'admin');
      assert.equal((await patch(product.id, { price: 450 }, admin)).statusCode, 200);
      const events = await outboxSince(before);
      assert.equal((events[0]!.envelope.data as { merchantId: string }).merchantId, MERCHANT);
      assert.equal(events.length, 2);
    });

    await t.test('an unknown or malformed product id is a 404 for writes', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const res = await patch(id, { name: 'x' });
        assert.equal(res.statusCode, 404, id);
        assert.equal(res.json<Problem>().code, 'PRODUCT_NOT_FOUND');
      }
    });
  } finally {
    await app.close();
    await identity.close();
    await database.drop();
  }
});

test('the demo seed announces every product it writes, in the same transaction', async (t) => {
  const database = await createTestDatabase(t);
  if (!database) return;
  const db = database.pool;
  const merchantId = '5eed0000-0000-4000-8000-00000000d3e0';
  const identity = await startIdentity();
  const { app, ctx } = await catalogApp(db, identity, {
    env: { BAZAAR_DEMO_MERCHANT_ID: merchantId },
  });
  try {
    const seed = async () => {
      const client = await db.connect();
      try {
        await catalog.seed!(client, ctx);
      } finally {
        client.release();
      }
    };
    await seed();
    const { rows } = await db.query<{ subject: string; envelope: EventEnvelope<Record<string, unknown>> }>(
      `SELECT subject, envelope FROM kit_outbox WHERE type = 'catalog.product-changed' ORDER BY seq`,
    );
    assert.equal(rows.length, seedProducts.length);
    const products = await db.query<{ id: string; name: string; price: number }>(
      'SELECT id::text, name, price FROM products',
    );
    const byId = new Map(products.rows.map((p) => [p.id, p]));
    for (const { subject, envelope } of rows) {
      const product = byId.get(subject);
      assert.ok(product, `the event names a seeded product (${subject})`);
      assert.deepEqual(envelope.data, {
        productId: subject,
        merchantId,
        name: product.name,
        price: product.price,
        currency: 'USD',
        hidden: false,
        change: 'created',
      });
    }
    assert.equal(new Set(rows.map((r) => r.subject)).size, seedProducts.length, 'one event per product');

    await seed();
    const after = await db.query('SELECT count(*)::int AS n FROM kit_outbox');
    assert.equal(after.rows[0].n, seedProducts.length, 'a second start seeds and announces nothing');

    // A seed that fails part-way leaves neither products nor events behind.
    await db.query('TRUNCATE products, kit_outbox');
    await db.query(`ALTER TABLE kit_outbox ADD CONSTRAINT no_more CHECK (seq < 0) NOT VALID`);
    await assert.rejects(seed());
    await db.query('ALTER TABLE kit_outbox DROP CONSTRAINT no_more');
    const left = await db.query(
      'SELECT (SELECT count(*) FROM products)::int AS products, (SELECT count(*) FROM kit_outbox)::int AS events',
    );
    assert.deepEqual(left.rows[0], { products: 0, events: 0 });
  } finally {
    await app.close();
    await identity.close();
    await database.drop();
  }
});
