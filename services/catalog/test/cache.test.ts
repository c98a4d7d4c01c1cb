import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import { type EventEnvelope, Events, type Product } from '@bazaar/contracts';
import { type ServiceContext, withTransaction } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { keepAvailability } from '../src/availability.ts';
import { findProduct } from '../src/store/products.ts';
import {
  addCategories,
  asUser,
  catalogApp,
  eventually,
  startIdentity,
  type TestIdentity,
} from './support/apps.ts';
import { createTestDatabase } from './support/database.ts';

const MERCHANT = '0a7e0000-0000-4000-8000-00000000cccc';
const REDIS_URL = process.env.BAZAAR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How this instance's product reads were answered so far, by result. */
async function lookups(ctx: ServiceContext): Promise<{ hit: number; miss: number; bypass: number }> {
  const metric = ctx.metrics.getSingleMetric('bazaar_product_cache_lookups_total');
  const { values } = await metric!.get();
  const count = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
  return { hit: count('hit'), miss: count('miss'), bypass: count('bypass') };
}

/** Two catalog instances on one database, and what their tests share. */
interface Instances {
  db: pg.Pool;
  identity: TestIdentity;
  a: { app: FastifyInstance; ctx: ServiceContext };
  b: { app: FastifyInstance; ctx: ServiceContext };
  merchant: Record<string, string>;
  /** A new product, not yet read by either instance. */
  newProduct(name: string): Promise<Product>;
  read(app: FastifyInstance, id: string, headers?: Record<string, string>): Promise<Product | undefined>;
  stockChanged(id: string, available: number, revision: number): Promise<void>;
}

/** Product `id` as `app` answers it; undefined for a 404. */
async function read(app: FastifyInstance, id: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ url: `/api/products/${id}`, headers });
  if (res.statusCode === 404) return undefined;
  assert.equal(res.statusCode, 200, res.body);
  return res.json<Product>();
}

async function withInstances(
  t: TestContext,
  env: NodeJS.ProcessEnv,
  body: (instances: Instances) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase(t);
  if (!database) return;
  const db = database.pool;
  const identity = await startIdentity();
  const a = await catalogApp(db, identity, { instanceId: 'catalog-a', env });
  const b = await catalogApp(db, identity, { instanceId: 'catalog-b', env });
  try {
    await addCategories(db);
    const merchant = await asUser(identity, MERCHANT, 'merchant');
    await body({
      db,
      identity,
      a,
      b,
      merchant,
      async newProduct(name) {
        // Written straight to the database, so no change notice is in flight when a test begins.
        const { rows } = await db.query<{ id: string }>(
          `INSERT INTO products (merchant_id, name, price, currency, category) VALUES ($1, $2, 1000, 'USD', 'toys')
           RETURNING id`,
          [MERCHANT, name],
        );
        return (await findProduct(db, rows[0]!.id))!.product;
      },
      read,
      async stockChanged(id, available, revision) {
        const event: EventEnvelope = {
          id: randomUUID(),
          type: Events.stockChanged.type,
          version: Events.stockChanged.version,
          source: 'inventory',
          subject: id,
          occurredAt: new Date().toISOString(),
          data: { productId: id, available, revision },
        };
        await withTransaction(db, (tx) => keepAvailability(event, tx));
      },
    });
  } finally {
    await a.app.close();
    await b.app.close();
    await identity.close();
    await database.drop();
  }
}

test('product reads cached in each instance', async (t) => {
  await withInstances(t, {}, async ({ db, a, b, merchant, newProduct, read, stockChanged }) => {
    await t.test('a second read of a product is a cache hit', async () => {
      const product = await newProduct('Spinning Top');
      const before = await lookups(a.ctx);
      assert.deepEqual(await read(a.app, product.id), product);
      assert.deepEqual(await read(a.app, product.id), product);
      const after = await lookups(a.ctx);
      assert.equal(after.miss - before.miss, 1);
      assert.equal(after.hit - before.hit, 1);
      // Proof that the copy is served: a change nobody announced is not seen.
      await db.query(`UPDATE products SET name = 'Renamed quietly' WHERE id = $1`, [product.id]);
      assert.equal((await read(a.app, product.id))?.name, 'Spinning Top');
    });

    await t.test('a change through another instance reaches this one within a short wait', async () => {
      const product = await newProduct('Kite');
      await read(a.app, product.id);
      const res = await b.app.inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: merchant,
        payload: { name: 'Box Kite', price: 1250 },
      });
      assert.equal(res.statusCode, 200);
      await eventually(
        async () => (await read(a.app, product.id))?.name === 'Box Kite',
        'instance a sees the change',
      );
      assert.equal((await read(a.app, product.id))?.price, 1250);
    });

    await t.test('a change through this instance is seen by its very next read', async () => {
      const product = await newProduct('Yo-yo');
      await read(a.app, product.id);
      const res = await a.app.inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: merchant,
        payload: { name: 'Glow Yo-yo' },
      });
      assert.equal(res.statusCode, 200);
      assert.equal((await read(a.app, product.id))?.name, 'Glow Yo-yo');
    });

    await t.test('a copy read by an id in capitals is dropped on a change too', async () => {
      const product = await newProduct('Puppet');
      const shouted = product.id.toUpperCase();
      assert.equal((await read(a.app, shouted))?.id, product.id);
      const res = await b.app.inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: merchant,
        payload: { name: 'Hand Puppet' },
      });
      assert.equal(res.statusCode, 200);
      await eventually(async () => (await read(a.app, shouted))?.name === 'Hand Puppet', 'a sees the change');
    });

    await t.test('a product hidden through another instance stops being served to shoppers', async () => {
      const product = await newProduct('Marbles');
      await read(a.app, product.id);
      await read(a.app, product.id);
      const res = await b.app.inject({
        method: 'DELETE',
        url: `/api/products/${product.id}`,
        headers: merchant,
      });
      assert.equal(res.statusCode, 204);
      await eventually(async () => (await read(a.app, product.id)) === undefined, 'instance a hides it');
      assert.equal(await read(a.app, product.id), undefined, 'and keeps it hidden');
      assert.equal((await read(a.app, product.id, merchant))?.name, 'Marbles', 'its merchant still sees it');
    });

    await t.test(
      'a hidden product is never cached: shoppers get 404, its merchant reads the database',
      async () => {
        const product = await newProduct('Jigsaw');
        const hide = await a.app.inject({
          method: 'DELETE',
          url: `/api/products/${product.id}`,
          headers: merchant,
        });
        assert.equal(hide.statusCode, 204);
        const before = await lookups(a.ctx);
        assert.equal((await read(a.app, product.id, merchant))?.id, product.id);
        assert.equal((await read(a.app, product.id, merchant))?.id, product.id);
        assert.equal(await read(a.app, product.id), undefined);
        const after = await lookups(a.ctx);
        assert.equal(after.hit, before.hit, 'no read of a hidden product is a hit');
        assert.equal(after.miss - before.miss, 3);
      },
    );

    await t.test('a stock event reaches a cached product within a short wait', async () => {
      const product = await newProduct('Skipping Rope');
      assert.equal((await read(a.app, product.id))?.available, null);
      await stockChanged(product.id, 6, 1);
      await eventually(
        async () => (await read(a.app, product.id))?.available === 6,
        'instance a sees the stock',
      );
    });

    await t.test(
      'after its listening connection is lost and back, an instance starts with an empty cache',
      async () => {
        const product = await newProduct('Paper Plane');
        await read(a.app, product.id);
        await db.query(`UPDATE products SET name = 'Paper Glider' WHERE id = $1`, [product.id]);
        assert.equal((await read(a.app, product.id))?.name, 'Paper Plane', 'served from the cache');

        const listeners = async () =>
          (
            await db.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE application_name = 'catalog-a:product-cache'`,
            )
          ).rows.map((r) => r.pid);
        const [old] = await listeners();
        assert.ok(old, 'instance a listens on a connection of its own');
        await db.query('SELECT pg_terminate_backend($1)', [old]);
        const listening = a.ctx.metrics.getSingleMetric('bazaar_product_cache_listening')!;
        await eventually(async () => {
          const pids = await listeners();
          const gauge = (await listening.get()).values[0]?.value;
          return pids.length === 1 && pids[0] !== old && gauge === 1;
        }, 'instance a listens again');
        assert.equal((await read(a.app, product.id))?.name, 'Paper Glider');
      },
    );

    await t.test('closing an instance closes its listening connection', async () => {
      await b.app.close();
      await eventually(
        async () =>
          (
            await db.query(
              `SELECT 1 FROM pg_stat_activity WHERE application_name = 'catalog-b:product-cache'`,
            )
          ).rowCount === 0,
        'the listening connection of b is gone',
      );
    });
  });
});

test('product reads shared through Redis', async (t) => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  probe.on('error', () => undefined);
  const available = await probe.connect().then(
    () => true,
    () => false,
  );
  if (!available) {
    const message = `!!! SKIPPED: no Redis at ${REDIS_URL}: the shared product cache tests did not run`;
    if (process.env.CI === 'true') throw new Error(message);
    console.log(message);
    probe.disconnect();
    t.skip(message);
    return;
  }
  const used: string[] = [];
  try {
    await withInstances(
      t,
      { BAZAAR_REDIS_URL: REDIS_URL },
      async ({ a, b, merchant, newProduct, read, stockChanged }) => {
        const product = async (name: string) => {
          const p = await newProduct(name);
          used.push(p.id);
          return p;
        };

        await t.test('a product read through one instance is a hit on the other', async () => {
          const p = await product('Toy Boat');
          const [beforeA, beforeB] = [await lookups(a.ctx), await lookups(b.ctx)];
          assert.deepEqual(await read(a.app, p.id), p);
          assert.deepEqual(await read(b.app, p.id), p);
          assert.equal((await lookups(a.ctx)).miss - beforeA.miss, 1);
          assert.equal((await lookups(b.ctx)).hit - beforeB.hit, 1);
        });

        await t.test('a change through one instance is seen at once through the other', async () => {
          const p = await product('Toy Train');
          await read(a.app, p.id);
          const res = await b.app.inject({
            method: 'PATCH',
            url: `/api/products/${p.id}`,
            headers: merchant,
            payload: { price: 2500 },
          });
          assert.equal(res.statusCode, 200);
          assert.equal((await read(a.app, p.id))?.price, 2500);
        });

        await t.test(
          'a product hidden through one instance is not served to shoppers by the other',
          async () => {
            const p = await product('Toy Drum');
            await read(a.app, p.id);
            const res = await b.app.inject({
              method: 'DELETE',
              url: `/api/products/${p.id}`,
              headers: merchant,
            });
            assert.equal(res.statusCode, 204);
            assert.equal(await read(a.app, p.id), undefined);
            assert.equal((await read(a.app, p.id, merchant))?.id, p.id);
          },
        );

        await t.test('a stock event drops the shared copy within a short wait', async () => {
          const p = await product('Toy Piano');
          await read(a.app, p.id);
          await stockChanged(p.id, 2, 1);
          await eventually(
            async () => (await read(b.app, p.id))?.available === 2,
            'the shared copy is dropped',
          );
        });
      },
    );
  } finally {
    const keys = used.flatMap((id) => [`bazaar:catalog:p:${id}`, `bazaar:catalog:v:${id}`]);
    if (keys.length > 0) await probe.del(...keys);
    probe.disconnect();
  }
});

test('when Redis does not answer, products are read from the database', async (t) => {
  await withInstances(
    t,
    { BAZAAR_REDIS_URL: 'redis://127.0.0.1:1' },
    async ({ a, b, merchant, newProduct, read }) => {
      const product = await newProduct('Toy Robot');
      const before = await lookups(a.ctx);
      assert.deepEqual(await read(a.app, product.id), product);
      assert.deepEqual(await read(a.app, product.id), product);
      assert.equal((await lookups(a.ctx)).bypass - before.bypass, 2);
      const res = await b.app.inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: merchant,
        payload: { name: 'Toy Robot Mk II' },
      });
      assert.equal(res.statusCode, 200, 'a change does not wait for the cache');
      assert.equal((await read(a.app, product.id))?.name, 'Toy Robot Mk II');
    },
  );
});
