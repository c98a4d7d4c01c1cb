import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { type EventEnvelope, Events } from '@bazaar/contracts';
import { withTransaction } from '@bazaar/kit';
import pg from 'pg';
import { keepAvailability } from '../src/availability.ts';
import catalog from '../src/service.ts';
import { PRODUCT_CHANGED_CHANNEL } from '../src/store/change-notices.ts';
import { findProduct } from '../src/store/products.ts';
import { addCategories, eventually } from './support/apps.ts';
import { createTestDatabase } from './support/database.ts';

/** An `inventory.stock-changed` event as the bus delivers it. */
function stockChanged(
  productId: string,
  available: number,
  revision: number,
  occurredAt: string,
): EventEnvelope {
  return {
    id: randomUUID(),
    type: Events.stockChanged.type,
    version: Events.stockChanged.version,
    source: 'inventory',
    subject: productId,
    occurredAt,
    data: { productId, available, revision },
  };
}

test('availability kept from inventory.stock-changed', async (t) => {
  const database = await createTestDatabase(t);
  if (!database) return;
  const db = database.pool;
  const deliver = (event: EventEnvelope) => withTransaction(db, (tx) => keepAvailability(event, tx));
  const newProduct = async (name: string) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO products (merchant_id, name, price, currency, category) VALUES ('m-1', $1, 100, 'USD', 'books') RETURNING id`,
      [name],
    );
    return rows[0]!.id;
  };
  const shown = async (id: string) => {
    const { available, availableAsOf } = (await findProduct(db, id))!.product;
    return { available, availableAsOf };
  };
  try {
    await addCategories(db);

    await t.test('the catalog consumes inventory.stock-changed as "availability"', () => {
      const consumer = catalog.consumers?.find((c) => c.name === 'availability');
      assert.ok(consumer);
      assert.deepEqual(consumer.events, [Events.stockChanged]);
      assert.equal(consumer.handle, keepAvailability);
    });

    await t.test('a product never stocked shows no availability', async () => {
      assert.deepEqual(await shown(await newProduct('Unstocked')), { available: null, availableAsOf: null });
    });

    await t.test('a stock event sets available, as of when it happened', async () => {
      const id = await newProduct('Stocked');
      await deliver(stockChanged(id, 12, 1, '2025-06-01T10:00:00.000Z'));
      assert.deepEqual(await shown(id), { available: 12, availableAsOf: '2025-06-01T10:00:00.000Z' });
      await deliver(stockChanged(id, 11, 2, '2025-06-01T10:05:00.000Z'));
      assert.deepEqual(await shown(id), { available: 11, availableAsOf: '2025-06-01T10:05:00.000Z' });
    });

    await t.test('a late, older event changes nothing; the newest revision is kept', async () => {
      const id = await newProduct('Raced');
      await deliver(stockChanged(id, 3, 7, '2025-06-01T11:07:00.000Z'));
      await deliver(stockChanged(id, 9, 5, '2025-06-01T11:05:00.000Z'));
      await deliver(stockChanged(id, 8, 7, '2025-06-01T11:08:00.000Z'));
      assert.deepEqual(await shown(id), { available: 3, availableAsOf: '2025-06-01T11:07:00.000Z' });
      const { rows } = await db.query('SELECT available_revision::int AS r FROM products WHERE id = $1', [
        id,
      ]);
      assert.equal(rows[0].r, 7);
    });

    await t.test('a kept change is announced for the caches; an ignored one is not', async () => {
      const id = await newProduct('Announced');
      const listener = new pg.Client({ connectionString: database.url });
      await listener.connect();
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
      try {
        await listener.query(`LISTEN ${PRODUCT_CHANGED_CHANNEL}`);
        await deliver(stockChanged(id, 4, 2, '2025-06-01T12:00:00.000Z'));
        await deliver(stockChanged(id, 5, 1, '2025-06-01T11:00:00.000Z'));
        // A marker sent after both: once it is heard, anything the two sent has been heard too.
        await db.query('SELECT pg_notify($1, $2)', [PRODUCT_CHANGED_CHANNEL, 'marker']);
        await eventually(async () => heard.includes(`${PRODUCT_CHANGED_CHANNEL}:marker`), 'the marker');
        assert.deepEqual(heard, [`${PRODUCT_CHANGED_CHANNEL}:${id}`, `${PRODUCT_CHANGED_CHANNEL}:marker`]);
      } finally {
        await listener.end();
      }
    });

    await t.test(
      'an event about a product the catalog does not have is taken and changes nothing',
      async () => {
        const count = async () =>
          (await db.query('SELECT count(*)::int AS n FROM products WHERE available IS NOT NULL')).rows[0].n;
        const before = await count();
        await deliver(stockChanged(randomUUID(), 5, 1, '2025-06-01T12:00:00.000Z'));
        await deliver(stockChanged('not-a-uuid', 5, 1, '2025-06-01T12:00:00.000Z'));
        assert.equal(await count(), before);
      },
    );
  } finally {
    await database.drop();
  }
});
