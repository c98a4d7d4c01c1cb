import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { OrdersLiveConfig } from '@bazaar/contracts';
import { checkLiveConfig } from '@bazaar/kit';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import { DEFAULT_CHECKOUT_FEATURES, refuseCheckout } from '../src/domain/checkout-gate.ts';
import orders from '../src/service.ts';
import {
  asUser,
  eventually,
  type OrdersWorld,
  ordersWorld,
  type TestIdentity,
  type TestOrders,
} from './support/app.ts';
import type { FakeShop } from './support/fake-shop.ts';

describe('refuseCheckout', () => {
  const up = () => ({ instances: 2, available: 1, retryInMs: 0 });
  const open = () => ({ instances: 2, available: 0, retryInMs: 3_200 });

  test('lets a checkout through while checkout is on and a payments circuit lets calls through', () => {
    assert.equal(refuseCheckout(DEFAULT_CHECKOUT_FEATURES, up), undefined);
  });

  test('a paused checkout is refused whatever payments do', () => {
    const refusal = refuseCheckout({ ...DEFAULT_CHECKOUT_FEATURES, checkout: false }, up);
    assert.equal(refusal?.code, 'CHECKOUT_PAUSED');
    assert.ok((refusal?.retryAfterSeconds ?? 0) >= 1);
  });

  test('with every payments circuit open, the wait is until the soonest half-open, in whole seconds', () => {
    assert.deepEqual(
      [
        refuseCheckout(DEFAULT_CHECKOUT_FEATURES, open)?.code,
        refuseCheckout(DEFAULT_CHECKOUT_FEATURES, open)?.retryAfterSeconds,
      ],
      ['PAYMENTS_UNAVAILABLE', 4],
    );
    const none = refuseCheckout(DEFAULT_CHECKOUT_FEATURES, () => ({
      instances: 0,
      available: 0,
      retryInMs: null,
    }));
    assert.equal(none?.code, 'PAYMENTS_UNAVAILABLE', 'no payments instance at all');
  });

  test('without failing fast, payments are not even asked', () => {
    const refusal = refuseCheckout({ checkout: true, failFastWhenPaymentsDown: false }, () => {
      throw new Error('asked');
    });
    assert.equal(refusal, undefined);
  });
});

describe('checkout refused early', () => {
  let world: OrdersWorld | undefined;
  let database: ServiceTestDatabase | undefined;
  let identity: TestIdentity;
  let shop: FakeShop;
  let app: TestOrders;

  before(async () => {
    world = await ordersWorld({ BAZAAR_CHECKOUT_WAIT_MS: '300' });
    if (!world) return;
    ({ database, identity, shop, orders: app } = world);
  });
  after(() => world?.close());

  function customerWithCart() {
    const customerId = randomUUID();
    const productId = randomUUID();
    shop.addProduct({ id: productId, name: 'Gate test', price: 900, merchantId: 'merchant-1' }, 100);
    shop.carts.set(customerId, [{ productId, quantity: 1 }]);
    return customerId;
  }

  async function checkout(customerId: string) {
    return app.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...(await asUser(identity, customerId)), 'idempotency-key': randomUUID() },
      payload: {
        paymentToken: 'tok_visa',
        shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'London', postalCode: 'N1', country: 'GB' },
      },
    });
  }

  async function setFeatures(features: Record<string, boolean>) {
    const version = checkLiveConfig(OrdersLiveConfig, { features });
    assert.ok(version.ok);
    await orders.liveConfig?.(version.values, app.ctx);
  }

  async function ordersOf(customerId: string) {
    const res = await app.app.inject({ url: '/api/orders', headers: await asUser(identity, customerId) });
    return (res.json() as { items: unknown[] }).items.length;
  }

  test('checkout switched off answers 503 CHECKOUT_PAUSED and orders nothing; switched on, it works again', async (t) => {
    if (!database) return t.skip('no PostgreSQL');
    const customer = customerWithCart();
    await setFeatures({ checkout: false });
    const reservations = shop.count('POST /internal/reservations');
    const paused = await checkout(customer);
    assert.equal(paused.statusCode, 503);
    assert.equal(paused.json().code, 'CHECKOUT_PAUSED');
    assert.ok(Number(paused.headers['retry-after']) >= 1);
    assert.ok(paused.headers['bazaar-degraded'], 'marked as a deliberate refusal for the gateway');
    assert.equal(shop.count('POST /internal/reservations'), reservations);
    assert.equal(await ordersOf(customer), 0);

    await setFeatures({ checkout: true });
    const placed = await checkout(customer);
    assert.equal(placed.statusCode, 201, placed.body);
    assert.equal(placed.json().status, 'CONFIRMED');
  });

  test('with every payments circuit open, checkout answers 503 at once without ordering or reserving', async (t) => {
    if (!database) return t.skip('no PostgreSQL');
    await setFeatures({});
    const payments = app.ctx.client('payments');
    payments.configure({
      breakerFailureRatio: 0.5,
      breakerMinimumCalls: 3,
      breakerWindowMs: 10_000,
      breakerHalfOpenAfterMs: 20_000,
      maxAttempts: 3,
      retryBudgetRatio: 0.2,
    });
    shop.paymentsFailing = true;
    try {
      // The first checkout's authorization fails three times over: the circuit opens.
      const first = await checkout(customerWithCart());
      assert.equal(first.statusCode, 202, first.body);
      await eventually(async () => payments.availability().available === 0, 'the payments circuit opened');

      const customer = customerWithCart();
      const reservations = shop.count('POST /internal/reservations');
      const refused = await checkout(customer);
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json().code, 'PAYMENTS_UNAVAILABLE');
      const retryAfter = Number(refused.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 20, `Retry-After ${retryAfter}`);
      assert.equal(shop.count('POST /internal/reservations'), reservations, 'no stock was touched');
      assert.equal(await ordersOf(customer), 0, 'no order was made');

      await setFeatures({ failFastWhenPaymentsDown: false });
      const waiting = await checkout(customer);
      assert.equal(waiting.statusCode, 202, 'without failing fast the order is made and waits for payments');
    } finally {
      shop.paymentsFailing = false;
    }
  });
});
