/**
 * The shop end to end, on real processes, the embedded PostgreSQL and the pg-boss bus: a journey
 * from sign-up to a confirmed order, duplicate checkouts, an oversell race, bad input, a consumer
 * killed before it acknowledged, and the bus going away during a burst. One system, tests in order;
 * each ends by running the invariant checker.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Order, Product } from '@bazaar/contracts';
import pg from 'pg';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api, signUp } from '../security/support.ts';
import { checkout, paymentsOf, putInCart, settledOrder, stockedProduct, stockOf } from './shop-support.ts';
import { alive, assertInvariants, sampleSum, startTestSystem } from './support.ts';

/** The cart's consumer of confirmed orders is killed once after its effect, before its ack. */
const CART_CRASH_POINT = 'consumer:ordered-lines:before-ack';
const hookDir = mkdtempSync(join(tmpdir(), 'bazaar-hooks-'));

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let merchant: Account;
const acknowledged: string[] = [];

before(async () => {
  handle = await startTestSystem({
    // A delivery whose consumer died is redelivered after 3 s instead of 30.
    env: { BAZAAR_EVENT_ACK_TIMEOUT_MS: '3000' },
    serviceEnv: { cart: { BAZAAR_TEST_HOOK_DIR: hookDir, BAZAAR_TEST_CRASH_AT: CART_CRASH_POINT } },
  });
  system = handle.system;
  merchant = await signUp(system, 'merchant', 'merchant');
});
after(async () => {
  await handle?.stop();
  rmSync(hookDir, { recursive: true, force: true });
});

async function cartOf(customer: Account) {
  const res = await api(system, 'GET', '/api/cart', { token: customer.accessToken });
  assert.equal(res.status, 200, res.text);
  return res.body as unknown as { items: { productId: string; quantity: number }[]; total: number };
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000) {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (ok(value)) return value;
      last = value;
    } catch (err) {
      // A probe may fail while the instance it needs restarts; that is "not yet".
      last = (err as Error).message;
    }
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function orderOf(res: Awaited<ReturnType<typeof checkout>>): Order {
  assert.ok([200, 201, 202].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
  const order = res.body as unknown as Order;
  acknowledged.push(order.id);
  return order;
}

describe('journey', () => {
  let customer: Account;
  let mug: Product;
  let lamp: Product;

  before(async () => {
    customer = await signUp(system, 'shopper', 'customer');
    mug = await stockedProduct(system, merchant, { price: 1250, stock: 10, name: 'Journey mug' });
    lamp = await stockedProduct(system, merchant, { price: 4999, stock: 5, name: 'Journey lamp' });
  });

  test('search, two products in the cart, tok_visa: CONFIRMED, stock down, payment captured, cart empty', async () => {
    const found = await api(system, 'GET', `/api/products?q=${encodeURIComponent(mug.name)}`);
    assert.equal(found.status, 200);
    assert.ok(
      (found.body.items as Product[]).some((p) => p.id === mug.id),
      'search finds the mug',
    );

    await putInCart(system, customer, mug.id, 2);
    const cart = await putInCart(system, customer, lamp.id, 1);
    assert.equal((cart as { total: number }).total, 2 * 1250 + 4999);

    const order = orderOf(await checkout(system, customer, { expectedTotal: 2 * 1250 + 4999 }));
    const settled = await settledOrder(system, customer, order.id);
    assert.equal(settled.status, 'CONFIRMED', JSON.stringify(settled));
    assert.equal(settled.total, 2 * 1250 + 4999);
    assert.deepEqual(
      settled.items.map((i) => [i.productId, i.quantity, i.price]).sort(),
      [
        [mug.id, 2, 1250],
        [lamp.id, 1, 4999],
      ].sort(),
    );

    assert.deepEqual(await stockOf(system, merchant, mug.id), {
      productId: mug.id,
      available: 8,
      onHand: 8,
      reserved: 0,
    });
    assert.equal((await stockOf(system, merchant, lamp.id)).available, 4);
    const payments = await paymentsOf(system, customer, order.id);
    assert.deepEqual(
      payments.map((p) => [p.status, p.amount]),
      [['CAPTURED', settled.total]],
    );
    // The cart empties from orders' event, through the bus (its consumer is killed once on the way).
    await eventually(
      'the cart',
      () => cartOf(customer),
      (c) => c.items.length === 0,
    );
    // The catalog learns the new availability from inventory's events.
    await eventually(
      'the mug in the catalog',
      async () => (await api(system, 'GET', `/api/products/${mug.id}`)).body.available,
      (a) => a === 8,
    );
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });

  test('tok_chargeDeclined: CANCELLED PAYMENT_DECLINED, the stock back, nothing captured, the cart kept', async () => {
    await putInCart(system, customer, mug.id, 3);
    const order = orderOf(await checkout(system, customer, { paymentToken: 'tok_chargeDeclined' }));
    const settled = await settledOrder(system, customer, order.id);
    assert.equal(settled.status, 'CANCELLED');
    assert.equal(settled.cancelReason, 'PAYMENT_DECLINED');
    assert.equal(settled.declineCode, 'card_declined');
    assert.deepEqual(await stockOf(system, merchant, mug.id), {
      productId: mug.id,
      available: 8,
      onHand: 8,
      reserved: 0,
    });
    const payments = await paymentsOf(system, customer, order.id);
    assert.ok(
      payments.every((p) => p.status !== 'CAPTURED'),
      JSON.stringify(payments),
    );
    assert.deepEqual(
      (await cartOf(customer)).items.map((i) => [i.productId, i.quantity]),
      [[mug.id, 3]],
    );
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });

  test('the cart consumer killed after its effect and before its ack: the event comes again and changes nothing', async () => {
    assert.ok(
      existsSync(join(hookDir, `crashed-at-${CART_CRASH_POINT.replaceAll(':', '_')}`)),
      'the crash point was reached',
    );
    const cart = system.supervisor.info('cart-1');
    assert.ok(alive(cart.pid), 'the supervisor restarted cart');
    const client = new pg.Client({ connectionString: system.cluster.url('cart') });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM kit_inbox WHERE consumer LIKE '%ordered-lines%'`,
      );
      assert.equal(Number(rows[0]?.n), 1, 'one confirmed order, one inbox row');
    } finally {
      await client.end();
    }
    // The delivery the killed instance never acknowledged comes again once its ack time is up.
    await eventually(
      'the restarted cart seeing the redelivery as a duplicate',
      () =>
        sampleSum(system.supervisor.info('cart-1').url!, 'bazaar_events_consumed_total', {
          consumer: 'ordered-lines',
          outcome: 'duplicate',
        }),
      (n) => n >= 1,
    );
  });

  test('a customer cancels a confirmed order: stock returned, payment refunded', async () => {
    await api(system, 'DELETE', '/api/cart', { token: customer.accessToken });
    await putInCart(system, customer, lamp.id, 2);
    const order = orderOf(await checkout(system, customer));
    assert.equal((await settledOrder(system, customer, order.id)).status, 'CONFIRMED');
    assert.equal((await stockOf(system, merchant, lamp.id)).available, 2);
    const cancel = await api(system, 'POST', `/api/orders/${order.id}/cancel`, {
      token: customer.accessToken,
    });
    assert.ok([200, 202].includes(cancel.status), cancel.text);
    const cancelled = await eventually(
      'the cancelled order',
      async () => (await api(system, 'GET', `/api/orders/${order.id}`, { token: customer.accessToken })).body,
      (o) => o.status === 'CANCELLED',
    );
    assert.equal(cancelled.cancelReason, 'CUSTOMER_CANCELLED');
    await eventually(
      'the lamp stock',
      () => stockOf(system, merchant, lamp.id),
      (s) => s.available === 4,
    );
    await eventually(
      'the refund',
      () => paymentsOf(system, customer, order.id),
      (p) => p.length === 1 && p[0]!.status === 'REFUNDED',
    );
    const again = await api(system, 'POST', `/api/orders/${order.id}/cancel`, {
      token: customer.accessToken,
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ALREADY_CANCELLED');
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});

describe('duplicate checkout', () => {
  test('50 concurrent checkouts with one key make one order, and every answer is about it (or 409 in use)', async () => {
    const customer = await signUp(system, 'twin', 'customer');
    const product = await stockedProduct(system, merchant, { price: 700, stock: 20 });
    await putInCart(system, customer, product.id, 1);
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 50 }, () => checkout(system, customer, { key })));
    const ids = new Set<string>();
    for (const res of answers) {
      if (res.status === 409) {
        assert.equal(res.body.code, 'IDEMPOTENCY_KEY_IN_USE', res.text);
        continue;
      }
      ids.add(orderOf(res).id);
    }
    assert.equal(ids.size, 1, `answers named ${ids.size} orders`);
    const [orderId] = [...ids];
    const list = await api(system, 'GET', '/api/orders', { token: customer.accessToken });
    assert.deepEqual(
      (list.body.items as Order[]).map((o) => o.id),
      [orderId],
    );
    const settled = await settledOrder(system, customer, orderId!);
    const replay = await checkout(system, customer, { key });
    assert.equal(replay.status, 200, replay.text);
    assert.equal((replay.body as unknown as Order).id, orderId);
    assert.equal((replay.body as unknown as Order).status, settled.status);
    const other = await checkout(system, customer, { key, paymentToken: 'tok_insufficientFunds' });
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});

describe('oversell race', () => {
  test('stock 10, 200 concurrent checkouts of 1–3 units: at most 10 sold, the losers OUT_OF_STOCK', async () => {
    const product = await stockedProduct(system, merchant, { price: 300, stock: 10, name: 'Scarce' });
    const customers: { account: Account; quantity: number }[] = [];
    const queue = Array.from({ length: 200 }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const account = await signUp(system, `racer${i}`, 'customer');
          const quantity = 1 + (i % 3);
          await putInCart(system, account, product.id, quantity);
          customers.push({ account, quantity });
        }
      }),
    );
    const answers = await Promise.all(customers.map((c) => checkout(system, c.account)));
    const orders = answers.map(orderOf);
    const settled = await Promise.all(
      orders.map((o, i) => settledOrder(system, customers[i]!.account, o.id, 60_000)),
    );
    const sold = settled
      .filter((o) => o.status === 'CONFIRMED')
      .reduce((sum, o) => sum + o.items.reduce((n, l) => n + l.quantity, 0), 0);
    assert.ok(sold <= 10, `${sold} units sold of 10`);
    assert.ok(sold >= 8, `${sold} units sold: the stock should nearly sell out`);
    for (const o of settled.filter((o) => o.status === 'CANCELLED')) {
      assert.equal(o.cancelReason, 'OUT_OF_STOCK', JSON.stringify(o));
    }
    assert.deepEqual(await stockOf(system, merchant, product.id), {
      productId: product.id,
      available: 10 - sold,
      onHand: 10 - sold,
      reserved: 0,
    });
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});

describe('bad input', () => {
  test('bad quantities, unknown or hidden products, an empty cart, no Idempotency-Key: clear problems, nothing changes', async () => {
    const customer = await signUp(system, 'careless', 'customer');
    const product = await stockedProduct(system, merchant, { price: 500, stock: 5 });
    const hidden = await stockedProduct(system, merchant, { price: 500, stock: 5 });
    assert.equal(
      (await api(system, 'DELETE', `/api/products/${hidden.id}`, { token: merchant.accessToken })).status,
      204,
    );

    const empty = await checkout(system, customer);
    assert.equal(empty.status, 409);
    assert.equal(empty.body.code, 'CART_EMPTY');

    await putInCart(system, customer, product.id, 2);
    for (const quantity of [-1, 100, 1000, 1.5, null]) {
      const res = await api(system, 'PUT', `/api/cart/items/${product.id}`, {
        token: customer.accessToken,
        body: { quantity },
      });
      assert.equal(res.status, 400, `quantity ${quantity}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, res.text);
    }
    for (const id of [crypto.randomUUID(), hidden.id, 'not-a-product']) {
      const res = await api(system, 'PUT', `/api/cart/items/${id}`, {
        token: customer.accessToken,
        body: { quantity: 1 },
      });
      assert.equal(res.status, 404, `${id}: ${res.text}`);
    }
    assert.deepEqual(
      (await cartOf(customer)).items.map((i) => [i.productId, i.quantity]),
      [[product.id, 2]],
      'the cart is as it was',
    );

    const noKey = await api(system, 'POST', '/api/orders', {
      token: customer.accessToken,
      body: {
        paymentToken: 'tok_visa',
        shippingAddress: { name: 'x', line1: 'y', city: 'z', postalCode: '1', country: 'DE' },
      },
    });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.code, 'IDEMPOTENCY_KEY_REQUIRED');
    const badAddress = await api(system, 'POST', '/api/orders', {
      token: customer.accessToken,
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: { paymentToken: 'tok_visa', shippingAddress: { name: 'x' } },
    });
    assert.equal(badAddress.status, 400);
    const changed = await checkout(system, customer, { expectedTotal: 1 });
    assert.equal(changed.status, 409);
    assert.equal(changed.body.code, 'PRICE_CHANGED');

    const orders = await api(system, 'GET', '/api/orders', { token: customer.accessToken });
    assert.deepEqual(orders.body.items, [], 'no order was made');
    assert.equal((await stockOf(system, merchant, product.id)).reserved, 0);

    const removed = await putInCart(system, customer, product.id, 0);
    assert.deepEqual((removed as { items: unknown[] }).items, [], 'quantity 0 removes the line');
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});

describe('bus down', () => {
  test('the bus database unreachable during a burst of checkouts: outboxes grow, then drain; nothing lost', async () => {
    const product = await stockedProduct(system, merchant, { price: 900, stock: 100 });
    const shoppers = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const account = await signUp(system, `burst${i}`, 'customer');
        await putInCart(system, account, product.id, 1);
        return account;
      }),
    );
    const admin = new pg.Client({ connectionString: system.cluster.url('postgres') });
    await admin.connect();
    const unsent = async () => {
      let total = 0;
      for (const db of ['orders', 'inventory']) {
        const c = new pg.Client({ connectionString: system.cluster.url(db) });
        await c.connect();
        const { rows } = await c.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM kit_outbox WHERE sent_at IS NULL',
        );
        await c.end();
        total += Number(rows[0]?.n);
      }
      return total;
    };
    try {
      await admin.query('ALTER DATABASE bus WITH ALLOW_CONNECTIONS false');
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'bus'`);
      const orders = (await Promise.all(shoppers.map((s) => checkout(system, s)))).map(orderOf);
      const settled = await Promise.all(orders.map((o, i) => settledOrder(system, shoppers[i]!, o.id)));
      assert.ok(
        settled.every((o) => o.status === 'CONFIRMED'),
        'the saga needs no bus',
      );
      const waiting = await unsent();
      assert.ok(waiting >= 16, `events wait in the outboxes while the bus is away (${waiting})`);
      // Carts cannot hear of the confirmations yet.
      assert.equal((await cartOf(shoppers[0]!)).items.length, 1);
    } finally {
      await admin.query('ALTER DATABASE bus WITH ALLOW_CONNECTIONS true');
      await admin.end();
    }
    await eventually('the outboxes', unsent, (n) => n === 0, 60_000);
    for (const shopper of shoppers) {
      await eventually(
        'a cart',
        () => cartOf(shopper),
        (c) => c.items.length === 0,
        30_000,
      );
    }
    await eventually(
      'the catalog availability',
      async () => (await api(system, 'GET', `/api/products/${product.id}`)).body.available,
      (a) => a === 92,
      30_000,
    );
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});
