import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type EventEnvelope, Events, type ProductChangedEvent } from '@bazaar/contracts';
import { withTransaction } from '@bazaar/kit';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import { productOwners, recordProductOwner } from '../src/consumers/product-owners.ts';
import { findOwner } from '../src/store/owners.ts';
import { inventoryDatabase } from './support/database.ts';

let database: ServiceTestDatabase;
before(async () => {
  database = await inventoryDatabase();
});
after(async () => {
  await database.drop();
});

function productChanged(
  productId: string,
  merchantId: string,
  occurredAt: string,
): EventEnvelope<ProductChangedEvent> {
  return {
    id: randomUUID(),
    type: Events.productChanged.type,
    version: Events.productChanged.version,
    source: 'catalog',
    subject: productId,
    occurredAt,
    data: {
      productId,
      merchantId,
      name: 'Kettle',
      price: 2500,
      currency: 'USD',
      hidden: false,
      change: 'created',
    },
  };
}

const deliver = (event: EventEnvelope) =>
  withTransaction(database.pool, (tx) => recordProductOwner(event, tx));

test('the consumer reads catalog.product-changed', () => {
  assert.deepEqual(productOwners.events, [Events.productChanged]);
});

test("a product-changed event records the product's merchant, and a newer one replaces it", async () => {
  const productId = randomUUID();
  await deliver(productChanged(productId, 'merchant-a', '2030-01-01T00:00:00.000Z'));
  assert.equal(await findOwner(database.pool, productId), 'merchant-a');
  await deliver(productChanged(productId, 'merchant-b', '2030-01-01T00:00:01.000Z'));
  assert.equal(await findOwner(database.pool, productId), 'merchant-b');
});

test('a late, older event does not overwrite a newer owner', async () => {
  const productId = randomUUID();
  await deliver(productChanged(productId, 'merchant-new', '2030-01-01T00:00:05.000Z'));
  await deliver(productChanged(productId, 'merchant-old', '2030-01-01T00:00:04.999Z'));
  assert.equal(await findOwner(database.pool, productId), 'merchant-new');
});

test('a product id in upper case is recorded under the lower-case id orders and merchants use', async () => {
  const productId = randomUUID();
  await deliver(productChanged(productId.toUpperCase(), 'merchant-a', '2030-01-01T00:00:00.000Z'));
  assert.equal(await findOwner(database.pool, productId), 'merchant-a');
});
