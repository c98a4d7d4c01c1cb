/** The saga's duration histogram and stuck gauge, on the orders app with a fake shop and a real database. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Order } from '@bazaar/contracts';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import {
  asUser,
  eventually,
  type OrdersWorld,
  ordersWorld,
  type TestIdentity,
  type TestOrders,
} from './support/app.ts';
import type { FakeShop } from './support/fake-shop.ts';

let world: OrdersWorld | undefined;
let database: ServiceTestDatabase | undefined;
let identity: TestIdentity;
let shop: FakeShop;
let orders: TestOrders;

before(async () => {
  world = await ordersWorld({ BAZAAR_CHECKOUT_WAIT_MS: '200' });
  if (!world) return;
  ({ database, identity, shop, orders } = world);
});

after(() => world?.close());

/** The value of the series `name` whose labels include `labels`, from the orders app's /metrics. */
async function metric(name: string, ...labels: string[]): Promise<number | undefined> {
  const lines = (await orders.app.inject({ url: '/metrics' })).body.split('\n');
  const line = lines.find(
    (l) =>
      (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && labels.every((label) => l.includes(label)),
  );
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

test('a saga PENDING for over 2 minutes counts as stuck, and its duration is recorded when it ends', async (t) => {
  if (!database) return t.skip('no PostgreSQL');
  const customerId = randomUUID();
  const productId = randomUUID();
  shop.addProduct({ id: productId, name: 'Slow', price: 500, merchantId: 'merchant-1' }, 10);
  shop.carts.set(customerId, [{ productId, quantity: 1 }]);
  const open = shop.holdAuthorizations();
  try {
    const placed = await orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...(await asUser(identity, customerId)), 'idempotency-key': randomUUID() },
      payload: {
        paymentToken: 'tok_visa',
        shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'London', postalCode: 'N1', country: 'GB' },
      },
    });
    assert.equal(placed.statusCode, 202, placed.body);
    const order = placed.json<Order>();
    assert.equal(await metric('bazaar_sagas_stuck'), 0, 'a fresh PENDING order is not stuck');
    await database.pool.query(`UPDATE orders SET created_at = now() - interval '3 minutes' WHERE id = $1`, [
      order.id,
    ]);
    assert.equal(await metric('bazaar_sagas_stuck'), 1);
    const slowBefore = await slowConfirmed();
    open();
    await eventually(async () => (await metric('bazaar_sagas_stuck')) === 0, 'the saga to end');
    assert.equal(await slowConfirmed(), slowBefore + 1, 'one more confirmed saga took over 2 minutes');
  } finally {
    open();
  }
});

/** Confirmed sagas that took longer than 120 s (the histogram's count above its 120 s bucket). */
async function slowConfirmed(): Promise<number> {
  const all = (await metric('bazaar_saga_duration_seconds_count', 'outcome="confirmed"')) ?? 0;
  const quick = (await metric('bazaar_saga_duration_seconds_bucket', 'le="120"', 'outcome="confirmed"')) ?? 0;
  return all - quick;
}
