import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Checkout, Order, OrderPage, Problem } from '@bazaar/contracts';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import { Order as PlacedOrder } from '../src/domain/order.ts';
import { claimKey, deleteExpiredKeys } from '../src/store/idempotency-keys.ts';
import { insertOrder, loadOrder } from '../src/store/orders.ts';
import {
  asUser,
  eventually,
  type OrdersWorld,
  ordersApp,
  ordersWorld,
  type TestIdentity,
  type TestOrders,
} from './support/app.ts';
import type { FakeShop } from './support/fake-shop.ts';

const address = {
  name: 'Ada Lovelace',
  line1: '1 Main St',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
};
const checkoutBody = (over: Partial<Checkout> = {}): Checkout => ({
  paymentToken: 'tok_visa',
  shippingAddress: address,
  ...over,
});

let world: OrdersWorld | undefined;
let database: ServiceTestDatabase | undefined;
let identity: TestIdentity;
let shop: FakeShop;
let orders: TestOrders;

before(async () => {
  // A short wait keeps 202 tests quick; the sagas themselves end in a few milliseconds.
  world = await ordersWorld({ BAZAAR_CHECKOUT_WAIT_MS: '1000' });
  if (!world) return;
  ({ database, identity, shop, orders } = world);
});

after(() => world?.close());

/** A customer with a cart of `lines` (new products with plenty of stock unless given). */
function customerWithCart(
  lines: Array<{ price: number; quantity: number; stock?: number; merchantId?: string }>,
) {
  const customerId = randomUUID();
  const productIds = lines.map((line, i) => {
    const id = randomUUID();
    shop.addProduct(
      { id, name: `Product ${i}`, price: line.price, merchantId: line.merchantId ?? 'merchant-1' },
      line.stock ?? 100,
    );
    return id;
  });
  shop.carts.set(
    customerId,
    productIds.map((productId, i) => ({ productId, quantity: lines[i]!.quantity })),
  );
  return { customerId, productIds };
}

async function placeOrder(customerId: string, body: Checkout = checkoutBody(), key: string = randomUUID()) {
  return orders.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { ...(await asUser(identity, customerId)), 'idempotency-key': key },
    payload: body,
  });
}

async function getOrder(orderId: string, userId: string, role = 'customer') {
  return orders.app.inject({ url: `/api/orders/${orderId}`, headers: await asUser(identity, userId, role) });
}

async function outboxTypes(orderId: string): Promise<string[]> {
  const { rows } = await database!.pool.query<{ type: string }>(
    'SELECT type FROM kit_outbox WHERE subject = $1 ORDER BY seq',
    [orderId],
  );
  return rows.map((r) => r.type);
}

async function orderCount(customerId: string): Promise<number> {
  const { rows } = await database!.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM orders WHERE customer_id = $1',
    [customerId],
  );
  return Number(rows[0]!.n);
}

function skipWithoutDatabase(t: { skip(message: string): void }): boolean {
  if (database) return false;
  t.skip('no PostgreSQL');
  return true;
}

describe('checkout', () => {
  test('a checkout that meets no failure is CONFIRMED (201) with lines and prices from the cart and catalog', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId, productIds } = customerWithCart([
      { price: 1250, quantity: 2, stock: 5 },
      { price: 300, quantity: 1 },
    ]);
    const res = await placeOrder(customerId, checkoutBody({ expectedTotal: 2800 }));
    assert.equal(res.statusCode, 201, res.body);
    const order = res.json<Order>();
    assert.equal(order.status, 'CONFIRMED');
    assert.equal(order.total, 2800);
    assert.equal(order.currency, 'USD');
    assert.deepEqual(order.items[0], {
      productId: productIds[0],
      name: 'Product 0',
      price: 1250,
      quantity: 2,
      lineTotal: 2500,
      merchantId: 'merchant-1',
    });
    assert.deepEqual(order.shippingAddress, address);
    assert.equal(res.headers.location, `/api/orders/${order.id}`);
    assert.equal(shop.stock.get(productIds[0]!), 3, 'stock was taken once');
    assert.equal(shop.reservations.get(order.id)?.status, 'COMMITTED');
    assert.equal(shop.payments.get(order.id)?.status, 'CAPTURED');
    assert.equal(shop.payments.get(order.id)?.amount, 2800);
    assert.deepEqual(await outboxTypes(order.id), ['orders.order-confirmed']);
    const { rows } = await database!.pool.query<{ payment_token: string | null; lease_owner: string | null }>(
      'SELECT payment_token, lease_owner FROM orders WHERE id = $1',
      [order.id],
    );
    assert.deepEqual(
      rows[0],
      { payment_token: null, lease_owner: null },
      'card token forgotten, lease given back',
    );
    const fetched = await getOrder(order.id, customerId);
    assert.equal(fetched.statusCode, 200);
    assert.deepEqual(fetched.json(), order);
  });

  test('a declined card cancels the order (PAYMENT_DECLINED, card_declined) and releases its stock', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId, productIds } = customerWithCart([{ price: 999, quantity: 3, stock: 10 }]);
    const res = await placeOrder(customerId, checkoutBody({ paymentToken: 'tok_chargeDeclined' }));
    assert.equal(res.statusCode, 201, res.body);
    const order = res.json<Order>();
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.cancelReason, 'PAYMENT_DECLINED');
    assert.equal(order.declineCode, 'card_declined');
    assert.equal(shop.reservations.get(order.id)?.status, 'RELEASED');
    assert.equal(shop.stock.get(productIds[0]!), 10, 'the reserved units are back');
    assert.equal(
      shop.count('POST /internal/payments/:id/void'),
      0,
      'a declined payment holds nothing to void',
    );
    assert.deepEqual(await outboxTypes(order.id), ['orders.order-cancelled']);
  });

  test('too little stock cancels with OUT_OF_STOCK without touching payments', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 100, quantity: 5, stock: 2 }]);
    const res = await placeOrder(customerId);
    assert.equal(res.statusCode, 201, res.body);
    const order = res.json<Order>();
    assert.equal(order.cancelReason, 'OUT_OF_STOCK');
    assert.equal(shop.payments.has(order.id), false);
  });

  test('a hidden product is left out of the order, as the cart leaves it out; a cart of only hidden ones is CART_EMPTY', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId, productIds } = customerWithCart([
      { price: 100, quantity: 1 },
      { price: 250, quantity: 2 },
    ]);
    shop.products.get(productIds[0]!)!.hidden = true;
    const res = await placeOrder(customerId);
    assert.equal(res.statusCode, 201, res.body);
    const order = res.json<Order>();
    assert.equal(order.status, 'CONFIRMED');
    assert.deepEqual(
      order.items.map((i) => i.productId),
      [productIds[1]],
    );
    assert.equal(order.total, 500);

    const only = customerWithCart([{ price: 100, quantity: 1 }]);
    shop.products.get(only.productIds[0]!)!.hidden = true;
    const empty = await placeOrder(only.customerId);
    assert.equal(empty.statusCode, 409, empty.body);
    assert.equal(empty.json<{ code: string }>().code, 'CART_EMPTY');
  });

  test('a reservation that expired before the commit voids the authorization (RESERVATION_EXPIRED)', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 700, quantity: 1 }]);
    shop.reservationsExpire = true;
    try {
      const res = await placeOrder(customerId);
      const order = res.json<Order>();
      assert.equal(order.cancelReason, 'RESERVATION_EXPIRED', res.body);
      assert.equal(shop.payments.get(order.id)?.status, 'VOIDED');
    } finally {
      shop.reservationsExpire = false;
    }
  });

  test('without an Idempotency-Key the checkout is refused (400), and a malformed key too', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 100, quantity: 1 }]);
    const missing = await orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: await asUser(identity, customerId),
      payload: checkoutBody(),
    });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json<Problem>().code, 'IDEMPOTENCY_KEY_REQUIRED');
    const malformed = await placeOrder(customerId, checkoutBody(), 'has spaces in it');
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json<Problem>().code, 'VALIDATION_FAILED');
    assert.equal(await orderCount(customerId), 0);
  });

  test('only customers check out', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const res = await orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...(await asUser(identity, randomUUID(), 'merchant')), 'idempotency-key': 'k1' },
      payload: checkoutBody(),
    });
    assert.equal(res.statusCode, 403);
    const anonymous = await orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      payload: checkoutBody(),
    });
    assert.equal(anonymous.statusCode, 401);
  });

  test('an empty cart is 409 CART_EMPTY, orders nothing, and leaves the key free for a later try', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const customerId = randomUUID();
    const key = randomUUID();
    const empty = await placeOrder(customerId, checkoutBody(), key);
    assert.equal(empty.statusCode, 409);
    assert.equal(empty.json<Problem>().code, 'CART_EMPTY');
    assert.equal(await orderCount(customerId), 0);
    const id = randomUUID();
    shop.addProduct({ id, name: 'Late', price: 50, merchantId: 'merchant-1' }, 5);
    shop.carts.set(customerId, [{ productId: id, quantity: 1 }]);
    const later = await placeOrder(customerId, checkoutBody(), key);
    assert.equal(later.statusCode, 201, later.body);
  });

  test('an expectedTotal that differs is 409 PRICE_CHANGED and nothing is ordered or reserved', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 1000, quantity: 1 }]);
    const reservationsBefore = shop.reservations.size;
    const res = await placeOrder(customerId, checkoutBody({ expectedTotal: 900 }));
    assert.equal(res.statusCode, 409);
    assert.equal(res.json<Problem>().code, 'PRICE_CHANGED');
    assert.equal(await orderCount(customerId), 0);
    assert.equal(shop.reservations.size, reservationsBefore);
  });

  test('the same key and body answers the same order (200); another body is 422 IDEMPOTENCY_KEY_REUSED', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 450, quantity: 2 }]);
    const key = randomUUID();
    const first = await placeOrder(customerId, checkoutBody(), key);
    assert.equal(first.statusCode, 201);
    // The same body with its keys in another order is the same request.
    const reordered = { shippingAddress: { ...address }, paymentToken: 'tok_visa' };
    const again = await placeOrder(customerId, reordered, key);
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), first.json());
    const other = await placeOrder(customerId, checkoutBody({ paymentToken: 'tok_mastercard' }), key);
    assert.equal(other.statusCode, 422);
    assert.equal(other.json<Problem>().code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await orderCount(customerId), 1);
    // Keys are the customer's own: another customer's identical key is another checkout.
    const stranger = customerWithCart([{ price: 10, quantity: 1 }]);
    const theirs = await placeOrder(stranger.customerId, checkoutBody(), key);
    assert.equal(theirs.statusCode, 201);
    assert.notEqual(theirs.json<Order>().id, first.json<Order>().id);
  });

  test('a key older than a day is forgotten, so it may start a new checkout', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 120, quantity: 1 }]);
    const key = randomUUID();
    assert.equal((await placeOrder(customerId, checkoutBody(), key)).statusCode, 201);
    await database!.pool.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE customer_id = $1`,
      [customerId],
    );
    assert.equal(await deleteExpiredKeys(database!.pool, 24 * 3600_000), 1);
    const reused = await placeOrder(customerId, checkoutBody({ paymentToken: 'tok_other' }), key);
    assert.equal(reused.statusCode, 201, reused.body);
    assert.equal(await orderCount(customerId), 2);
  });

  test('a key claimed by a request that died before ordering is taken over once its deadline passed', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 120, quantity: 1 }]);
    const key = randomUUID();
    await database!.pool.query(
      `INSERT INTO idempotency_keys (customer_id, key, request_hash, claim_token, claimed_at, answer_by)
       VALUES ($1, $2, 'whatever', gen_random_uuid(), now() - interval '12 seconds', now() - interval '1 second')`,
      [customerId, key],
    );
    const res = await placeOrder(customerId, checkoutBody(), key);
    assert.equal(res.statusCode, 201, res.body);
    await database!.pool.query(
      `UPDATE idempotency_keys SET order_id = NULL, answer_by = now() + interval '5 seconds'
       WHERE customer_id = $1 AND key = $2`,
      [customerId, key],
    );
    const fresh = await placeOrder(customerId, checkoutBody(), key);
    assert.equal(fresh.statusCode, 409, 'a live claim is still in use');
    assert.equal(fresh.json<Problem>().code, 'IDEMPOTENCY_KEY_IN_USE');
  });

  test('an order is placed only while its request holds the key: a claim taken over writes nothing', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const db = database!.pool;
    const claim = { customerId: randomUUID(), key: randomUUID(), token: randomUUID(), lifetimeMs: 10_000 };
    assert.deepEqual(await claimKey(db, claim, 'a-hash'), { claimed: true });
    const line = {
      productId: randomUUID(),
      merchantId: randomUUID(),
      name: 'Lamp',
      price: 700,
      quantity: 2,
      lineTotal: 1400,
    };
    const place = () =>
      PlacedOrder.place(
        {
          id: randomUUID(),
          customerId: claim.customerId,
          lines: [line],
          currency: 'USD',
          shippingAddress: address,
        },
        Date.now(),
      );
    const order = place();
    const options = { paymentToken: 'tok_visa', leaseOwner: null, leaseMs: 1_000 };
    const taken = { ...claim, token: randomUUID() };
    assert.equal(await insertOrder(db, order, { ...options, claim: taken }), false);
    assert.equal(await loadOrder(db, order.id), undefined);
    const lines = await db.query('SELECT 1 FROM order_lines WHERE order_id = $1', [order.id]);
    assert.equal(lines.rowCount, 0);

    assert.equal(await insertOrder(db, order, { ...options, claim }), true);
    const stored = await loadOrder(db, order.id);
    assert.deepEqual(stored?.order.lines, [line]);
    assert.equal(stored?.order.total, 1400);
    const key = await db.query<{ order_id: string }>(
      'SELECT order_id FROM idempotency_keys WHERE customer_id = $1 AND key = $2',
      [claim.customerId, claim.key],
    );
    assert.equal(key.rows[0]?.order_id, order.id);
    assert.equal(await insertOrder(db, place(), { ...options, claim }), false, 'a key holds one order');
  });

  test('50 concurrent checkouts with one key make one order; every answer is that order or 409 in use', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 250, quantity: 1 }]);
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => placeOrder(customerId, checkoutBody(), key)),
    );
    assert.equal(await orderCount(customerId), 1);
    const ids = new Set<string>();
    for (const res of answers) {
      if (res.statusCode === 409) {
        assert.equal(res.json<Problem>().code, 'IDEMPOTENCY_KEY_IN_USE');
        continue;
      }
      assert.ok([200, 201, 202].includes(res.statusCode), `${res.statusCode} ${res.body}`);
      ids.add(res.json<Order>().id);
    }
    assert.equal(ids.size, 1, 'every answer names the one order');
    assert.equal(answers.filter((r) => r.statusCode === 201 || r.statusCode === 202).length, 1);
    const [orderId] = ids;
    assert.equal(shop.payments.get(orderId!)?.status, 'CAPTURED');
  });

  test('while one checkout is PENDING another is 409 CHECKOUT_IN_PROGRESS; the first answers 202 and ends by itself', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 100, quantity: 1 }]);
    const open = shop.holdAuthorizations();
    try {
      const first = await placeOrder(customerId);
      assert.equal(first.statusCode, 202, first.body);
      const pending = first.json<Order>();
      assert.equal(pending.status, 'PENDING');
      assert.equal(first.headers.location, `/api/orders/${pending.id}`);
      const second = await placeOrder(customerId);
      assert.equal(second.statusCode, 409);
      assert.equal(second.json<Problem>().code, 'CHECKOUT_IN_PROGRESS');
      open();
      await eventually(
        async () => (await getOrder(pending.id, customerId)).json<Order>().status === 'CONFIRMED',
        'the pending order is confirmed',
      );
      assert.equal(await orderCount(customerId), 1);
    } finally {
      open();
    }
  });

  test('an authorization whose answer is lost is asked again with the same key: one authorization, a confirmed order', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 4200, quantity: 1 }]);
    const before = shop.authorizations;
    const asked = shop.count('POST /internal/payments');
    shop.loseNextAuthorizationAnswer = true;
    const res = await placeOrder(customerId);
    const orderId = res.json<Order>().id;
    await eventually(
      async () => (await getOrder(orderId, customerId)).json<Order>().status !== 'PENDING',
      'the order ends',
    );
    assert.equal((await getOrder(orderId, customerId)).json<Order>().status, 'CONFIRMED');
    assert.ok(shop.count('POST /internal/payments') - asked >= 2, 'asked again after the lost answer');
    assert.equal(shop.authorizations - before, 1, 'authorized once');
    assert.equal(shop.payments.get(orderId)?.status, 'CAPTURED');
  });
});

describe('orders and their owners', () => {
  test("another customer's order is 404 ORDER_NOT_FOUND; admins see it; lists hold only the caller's", async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 100, quantity: 1 }]);
    const order = (await placeOrder(customerId)).json<Order>();
    const stranger = randomUUID();
    const theirs = await getOrder(order.id, stranger);
    assert.equal(theirs.statusCode, 404);
    assert.equal(theirs.json<Problem>().code, 'ORDER_NOT_FOUND');
    assert.equal((await getOrder('not-a-uuid', customerId)).statusCode, 404);
    assert.equal((await getOrder(order.id, randomUUID(), 'admin')).statusCode, 200);
    const cancel = await orders.app.inject({
      method: 'POST',
      url: `/api/orders/${order.id}/cancel`,
      headers: await asUser(identity, stranger),
    });
    assert.equal(cancel.statusCode, 404);

    const mine = await orders.app.inject({ url: '/api/orders', headers: await asUser(identity, customerId) });
    assert.deepEqual(
      mine.json<OrderPage>().items.map((o) => o.id),
      [order.id],
    );
    const empty = await orders.app.inject({ url: '/api/orders', headers: await asUser(identity, stranger) });
    assert.deepEqual(empty.json<OrderPage>(), { items: [], nextCursor: null });
  });

  test('a customer pages through their orders newest first', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId } = customerWithCart([{ price: 100, quantity: 1 }]);
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) placed.push((await placeOrder(customerId)).json<Order>().id);
    const seen: string[] = [];
    let url: string | null = '/api/orders?limit=2';
    while (url) {
      const res: { statusCode: number; body: string; json<T>(): T } = await orders.app.inject({
        url,
        headers: await asUser(identity, customerId),
      });
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json<OrderPage>();
      seen.push(...page.items.map((o) => o.id));
      url = page.nextCursor ? `/api/orders?limit=2&cursor=${page.nextCursor}` : null;
    }
    assert.deepEqual(seen, placed.reverse());
    const bad = await orders.app.inject({
      url: '/api/orders?cursor=nope',
      headers: await asUser(identity, customerId),
    });
    assert.equal(bad.statusCode, 400);
  });

  test("a merchant sees the orders holding their products, with only their own lines and those lines' total", async (t) => {
    if (skipWithoutDatabase(t)) return;
    const merchant = randomUUID();
    const { customerId, productIds } = customerWithCart([
      { price: 500, quantity: 2, merchantId: merchant },
      { price: 9999, quantity: 1, merchantId: 'someone-else' },
    ]);
    const order = (await placeOrder(customerId)).json<Order>();
    assert.equal(order.total, 10999);
    const res = await orders.app.inject({
      url: '/api/merchant/orders',
      headers: await asUser(identity, merchant, 'merchant'),
    });
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json<OrderPage>();
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0]!.id, order.id);
    assert.deepEqual(
      page.items[0]!.items.map((l) => l.productId),
      [productIds[0]],
    );
    assert.equal(page.items[0]!.total, 1000);
    const customer = await orders.app.inject({
      url: '/api/merchant/orders',
      headers: await asUser(identity, customerId),
    });
    assert.equal(customer.statusCode, 403);
  });
});

describe('cancellation', () => {
  async function cancel(orderId: string, userId: string, role = 'customer') {
    return orders.app.inject({
      method: 'POST',
      url: `/api/orders/${orderId}/cancel`,
      headers: await asUser(identity, userId, role),
    });
  }

  test('a confirmed order is refunded and its stock returned, then CANCELLED (CUSTOMER_CANCELLED); again is 409', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId, productIds } = customerWithCart([{ price: 800, quantity: 2, stock: 4 }]);
    const order = (await placeOrder(customerId)).json<Order>();
    assert.equal(order.status, 'CONFIRMED');
    assert.equal(shop.stock.get(productIds[0]!), 2);
    const res = await cancel(order.id, customerId);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<Order>().status, 'CANCELLED');
    assert.equal(res.json<Order>().cancelReason, 'CUSTOMER_CANCELLED');
    assert.equal(shop.payments.get(order.id)?.status, 'REFUNDED');
    assert.equal(shop.reservations.get(order.id)?.status, 'RETURNED');
    assert.equal(shop.stock.get(productIds[0]!), 4);
    assert.deepEqual(await outboxTypes(order.id), ['orders.order-confirmed', 'orders.order-cancelled']);
    const again = await cancel(order.id, customerId);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<Problem>().code, 'ALREADY_CANCELLED');
  });

  test('a PENDING order stops: the authorization in flight is voided and the stock released', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const { customerId, productIds } = customerWithCart([{ price: 300, quantity: 1, stock: 1 }]);
    const open = shop.holdAuthorizations();
    let orderId = '';
    try {
      const placed = await placeOrder(customerId);
      assert.equal(placed.statusCode, 202);
      orderId = placed.json<Order>().id;
      const res = await cancel(orderId, randomUUID(), 'admin');
      // The authorization is still held at the provider: compensation waits for it.
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(res.json<Order>().status, 'PENDING');
    } finally {
      open();
    }
    await eventually(
      async () => (await getOrder(orderId, customerId)).json<Order>().status === 'CANCELLED',
      'the cancelled order ends',
    );
    const order = (await getOrder(orderId, customerId)).json<Order>();
    assert.equal(order.cancelReason, 'CUSTOMER_CANCELLED');
    assert.equal(shop.payments.get(orderId)?.status, 'VOIDED');
    assert.equal(shop.reservations.get(orderId)?.status, 'RELEASED');
    assert.equal(shop.stock.get(productIds[0]!), 1);
  });
});

describe('the saga runner', () => {
  test('payments failing past the bound: the order is voided, released and CANCELLED (PAYMENT_UNAVAILABLE)', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const impatient = await ordersApp(database!.pool, identity, shop, {
      instanceId: 'orders-impatient',
      env: { BAZAAR_PAYMENT_GIVE_UP_SECONDS: '1', BAZAAR_CHECKOUT_WAIT_MS: '0' },
    });
    const { customerId, productIds } = customerWithCart([{ price: 100, quantity: 1, stock: 3 }]);
    shop.paymentsFailing = true;
    try {
      const res = await impatient.app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...(await asUser(identity, customerId)), 'idempotency-key': randomUUID() },
        payload: checkoutBody(),
      });
      assert.equal(res.statusCode, 202, res.body);
      const orderId = res.json<Order>().id;
      await eventually(
        async () => (await getOrder(orderId, customerId)).json<Order>().status === 'CANCELLED',
        'the order is cancelled',
      );
      assert.equal((await getOrder(orderId, customerId)).json<Order>().cancelReason, 'PAYMENT_UNAVAILABLE');
      // The void came first, so a late authorization could hold nothing.
      assert.equal(shop.payments.get(orderId)?.status, 'VOIDED');
      assert.equal(shop.payments.get(orderId)?.amount, 0);
      assert.equal(shop.reservations.get(orderId)?.status, 'RELEASED');
      assert.equal(shop.stock.get(productIds[0]!), 3);
    } finally {
      shop.paymentsFailing = false;
      await impatient.close();
    }
  });

  test('a saga left mid-way by a crashed instance is resumed by another one and ends, authorized once', async (t) => {
    if (skipWithoutDatabase(t)) return;
    const doomed = await ordersApp(database!.pool, identity, shop, {
      instanceId: 'orders-doomed',
      env: { BAZAAR_CHECKOUT_WAIT_MS: '0' },
    });
    const { customerId } = customerWithCart([{ price: 1500, quantity: 1 }]);
    const before = shop.authorizations;
    const open = shop.holdAuthorizations();
    const res = await doomed.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...(await asUser(identity, customerId)), 'idempotency-key': randomUUID() },
      payload: checkoutBody(),
    });
    assert.equal(res.statusCode, 202, res.body);
    const orderId = res.json<Order>().id;
    await eventually(async () => shop.authorizing.has(orderId), 'the authorization is asked');
    // The crash: the instance stores nothing more and never gives its lease back.
    await doomed.runtime.runner.stop({ abandon: true });
    open(); // the provider authorizes, but the answer goes to a dead process
    await eventually(async () => shop.payments.has(orderId), 'the lost authorization happened');
    const { rows } = await database!.pool.query('SELECT saga_step, lease_owner FROM orders WHERE id = $1', [
      orderId,
    ]);
    assert.deepEqual(rows[0], { saga_step: 'AUTHORIZING', lease_owner: 'orders-doomed' });
    // Its lease runs out (made to, rather than waited for).
    await database!.pool.query(`UPDATE orders SET lease_until = now() - interval '1 second' WHERE id = $1`, [
      orderId,
    ]);

    const survivor = await ordersApp(database!.pool, identity, shop, { instanceId: 'orders-survivor' });
    try {
      survivor.runtime.runner.start();
      await eventually(
        async () => (await getOrder(orderId, customerId)).json<Order>().status !== 'PENDING',
        'the resumed order ends',
      );
      assert.equal((await getOrder(orderId, customerId)).json<Order>().status, 'CONFIRMED');
      assert.equal(shop.authorizations - before, 1, 'authorized once, though asked twice');
      assert.equal(shop.payments.get(orderId)?.status, 'CAPTURED');
    } finally {
      await survivor.close();
      await doomed.app.close();
    }
  });

  test('metrics count pending orders and ended sagas by outcome', async (t) => {
    if (skipWithoutDatabase(t)) return;
    await placeOrder(customerWithCart([{ price: 10, quantity: 1 }]).customerId);
    const declined = customerWithCart([{ price: 10, quantity: 1 }]).customerId;
    await placeOrder(declined, checkoutBody({ paymentToken: 'tok_chargeDeclined' }));
    const lines = (await orders.app.inject({ url: '/metrics' })).body.split('\n');
    /** The value of the series `name` whose labels include `labels` (in whatever order they print). */
    const value = (name: string, ...labels: string[]) => {
      const line = lines.find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    assert.ok((value('bazaar_orders_pending') ?? -1) >= 0, 'the pending gauge');
    assert.ok((value('bazaar_sagas_total', 'outcome="confirmed"', 'reason="none"') ?? 0) >= 1);
    assert.ok((value('bazaar_sagas_total', 'outcome="cancelled"', 'reason="PAYMENT_DECLINED"') ?? 0) >= 1);
    assert.ok(
      (value('bazaar_saga_step_duration_seconds_count', 'step="AUTHORIZING"', 'outcome="done"') ?? 0) >= 1,
    );
  });
});
