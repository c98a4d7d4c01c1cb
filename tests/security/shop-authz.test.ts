/**
 * The OWASP API Security Top 10 (2023) for the shop's routes — inventory, cart, orders, payments
 * and catalog's internal lookup — against the real processes: object-level authorization (API1),
 * function-level authorization (API5), mass assignment (API3) and an unsafe business flow (API6).
 * Object checks are made three ways: through the gateway, and straight to the service's instance
 * with and without the service token the gateway would send, because every service must refuse on
 * its own (no trust in the network). One system; tests run in order and share the orders of `before`.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Order, Payment, Product } from '@bazaar/contracts';
import pg from 'pg';
import type { System } from '../../packages/cli/src/system.ts';
import {
  ADDRESS,
  checkout,
  paymentsOf,
  putInCart,
  settledOrder,
  stockedProduct,
  stockOf,
} from '../system/shop-support.ts';
import { startTestSystem } from '../system/support.ts';
import {
  type Account,
  api,
  apiAt,
  type CallOptions,
  exchangeServiceToken,
  login,
  signUp,
} from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let admin: Account;
let a: Account;
let b: Account;
let m1: Account;
let m2: Account;
/** m1's mug and spoon, m2's lamp. */
let mug: Product;
let spoon: Product;
let lamp: Product;
/** A's mixed order: two of m1's mugs and one of m2's lamps. CONFIRMED. */
let orderA: Order;
/** B's order: one of m1's mugs. CONFIRMED. */
let orderB: Order;

before(async () => {
  handle = await startTestSystem();
  system = handle.system;
  const users = system.bootstrapUsers!.users;
  [admin, a, b, m1, m2] = await Promise.all([
    login(system, users.admin.email, users.admin.password),
    signUp(system, 'alice', 'customer'),
    signUp(system, 'bob', 'customer'),
    signUp(system, 'mona', 'merchant'),
    signUp(system, 'max', 'merchant'),
  ]);
  [mug, spoon, lamp] = await Promise.all([
    stockedProduct(system, m1, { price: 1000, stock: 10, name: 'Mona mug' }),
    stockedProduct(system, m1, { price: 700, stock: 5, name: 'Mona spoon' }),
    stockedProduct(system, m2, { price: 2500, stock: 10, name: 'Max lamp' }),
  ]);
  await putInCart(system, a, mug.id, 2);
  await putInCart(system, a, lamp.id, 1);
  await putInCart(system, b, mug.id, 1);
  [orderA, orderB] = await Promise.all([placeOrder(a), placeOrder(b)]);
});
after(() => handle?.stop());

/** Checks out the customer's cart and waits for the order to be confirmed. */
async function placeOrder(customer: Account): Promise<Order> {
  return confirmed(customer, await checkout(system, customer));
}

async function confirmed(customer: Account, res: Awaited<ReturnType<typeof api>>): Promise<Order> {
  assert.ok([200, 201, 202].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
  const order = await settledOrder(system, customer, (res.body as unknown as Order).id);
  assert.equal(order.status, 'CONFIRMED', JSON.stringify(order));
  return order;
}

const serviceTokens = new Map<string, Promise<string>>();

/** A real service token of `from` addressed to `audience` (exchanged once, then reused). */
function serviceToken(from: string, audience: string): Promise<string> {
  const key = `${from}→${audience}`;
  if (!serviceTokens.has(key)) serviceTokens.set(key, exchangeServiceToken(system, from, audience));
  return serviceTokens.get(key)!;
}

function instanceUrl(service: string): string {
  return system.supervisor.info(`${service}-1`).url!;
}

/** Straight to the service's first instance, bypassing the gateway, with a service token if given. */
function direct(
  service: string,
  method: string,
  path: string,
  options: CallOptions & { serviceToken?: string },
) {
  const headers = { ...options.headers };
  if (options.serviceToken) headers['bazaar-service-token'] = options.serviceToken;
  return apiAt(instanceUrl(service), method, path, { ...options, headers });
}

/** One way of reaching a service's public routes. */
interface Way {
  name: string;
  call(method: string, path: string, options?: CallOptions): ReturnType<typeof api>;
}

/**
 * The three ways to a service's public route: through the gateway; straight to its instance with
 * exactly what the gateway would add (its service token); and straight with the user token alone.
 */
async function ways(service: string): Promise<Way[]> {
  const asGateway = await serviceToken('gateway', service);
  return [
    { name: 'through the gateway', call: (method, path, options) => api(system, method, path, options) },
    {
      name: `straight to ${service}-1 with the gateway's service token`,
      call: (method, path, options = {}) =>
        direct(service, method, path, { ...options, serviceToken: asGateway }),
    },
    {
      name: `straight to ${service}-1 with the user token alone`,
      call: (method, path, options = {}) => direct(service, method, path, options),
    },
  ];
}

async function orderAsOwner(order: Order, owner: Account): Promise<Order> {
  const res = await api(system, 'GET', `/api/orders/${order.id}`, { token: owner.accessToken });
  assert.equal(res.status, 200, res.text);
  return res.body as unknown as Order;
}

async function orderIdsOf(customer: Account): Promise<string[]> {
  const res = await api(system, 'GET', '/api/orders?limit=100', { token: customer.accessToken });
  assert.equal(res.status, 200, res.text);
  return (res.body.items as Order[]).map((o) => o.id).sort();
}

async function cartLines(customer: Account): Promise<[string, number][]> {
  const res = await api(system, 'GET', '/api/cart', { token: customer.accessToken });
  assert.equal(res.status, 200, res.text);
  return (res.body.items as { productId: string; quantity: number }[]).map((l) => [l.productId, l.quantity]);
}

/** A's order is as it was left in `before`: confirmed, unchanged, its payment captured. */
async function assertOrderAUntouched() {
  const now = await orderAsOwner(orderA, a);
  assert.equal(now.status, 'CONFIRMED');
  assert.equal(now.cancelReason, null);
  assert.equal(now.updatedAt, orderA.updatedAt, "A's order was not changed");
  assert.deepEqual(
    (await paymentsOf(system, a, orderA.id)).map((p) => [p.status, p.amount]),
    [['CAPTURED', orderA.total]],
  );
}

describe('object level (API1): customers reach only their own orders and payments, merchants only their own stock', () => {
  test("B asking for A's order is told it does not exist, exactly as for an unknown id; A reads it every way", async () => {
    for (const way of await ways('orders')) {
      const theirs = await way.call('GET', `/api/orders/${orderA.id}`, { token: b.accessToken });
      assert.equal(theirs.status, 404, `${way.name}: ${theirs.text}`);
      assert.equal(theirs.body.code, 'ORDER_NOT_FOUND', way.name);
      assert.ok(!theirs.text.includes(mug.id) && !theirs.text.includes(ADDRESS.line1), 'nothing of it leaks');
      const unknown = await way.call('GET', `/api/orders/${crypto.randomUUID()}`, { token: b.accessToken });
      assert.deepEqual([unknown.status, unknown.body.code], [404, 'ORDER_NOT_FOUND'], way.name);
      const own = await way.call('GET', `/api/orders/${orderA.id}`, { token: a.accessToken });
      assert.equal(own.status, 200, `${way.name}, the owner: ${own.text}`);
      assert.equal(own.body.id, orderA.id);
    }
  });

  test("B cannot cancel A's order: 404, and it stays confirmed with its payment captured and its stock sold", async () => {
    const stock = await Promise.all([stockOf(system, m1, mug.id), stockOf(system, m2, lamp.id)]);
    for (const way of await ways('orders')) {
      const res = await way.call('POST', `/api/orders/${orderA.id}/cancel`, { token: b.accessToken });
      assert.equal(res.status, 404, `${way.name}: ${res.text}`);
      assert.equal(res.body.code, 'ORDER_NOT_FOUND', way.name);
    }
    await assertOrderAUntouched();
    assert.deepEqual(
      await Promise.all([stockOf(system, m1, mug.id), stockOf(system, m2, lamp.id)]),
      stock,
      'no stock came back',
    );
  });

  test("B asking for the payments of A's order gets an empty list, and B's own list holds only B's payment", async () => {
    for (const way of await ways('payments')) {
      const theirs = await way.call('GET', `/api/payments?orderId=${orderA.id}`, { token: b.accessToken });
      assert.equal(theirs.status, 200, `${way.name}: ${theirs.text}`);
      assert.deepEqual(theirs.body.items, [], way.name);
      const all = await way.call('GET', '/api/payments?limit=100', { token: b.accessToken });
      assert.deepEqual(
        (all.body.items as Payment[]).map((p) => p.orderId),
        [orderB.id],
        way.name,
      );
      const own = await way.call('GET', `/api/payments?orderId=${orderA.id}`, { token: a.accessToken });
      assert.deepEqual(
        (own.body.items as Payment[]).map((p) => [p.orderId, p.status, p.amount]),
        [[orderA.id, 'CAPTURED', orderA.total]],
        `${way.name}, the owner`,
      );
    }
  });

  test("each customer's order list holds their own orders and none of the other's", async () => {
    for (const way of await ways('orders')) {
      for (const [customer, mine] of [
        [b, orderB],
        [a, orderA],
      ] as const) {
        const res = await way.call('GET', '/api/orders?limit=100', { token: customer.accessToken });
        assert.equal(res.status, 200, `${way.name}: ${res.text}`);
        assert.deepEqual(
          (res.body.items as Order[]).map((o) => o.id),
          [mine.id],
          `${way.name}: ${customer.email}`,
        );
      }
    }
  });

  test("M2 cannot set the stock of M1's product (404, unchanged) nor see its onHand and reserved", async () => {
    const before = await stockOf(system, m1, mug.id);
    for (const way of await ways('inventory')) {
      const put = await way.call('PUT', `/api/inventory/${mug.id}`, {
        token: m2.accessToken,
        body: { onHand: 999 },
      });
      assert.equal(put.status, 404, `${way.name}: ${put.text}`);
      assert.equal(put.body.code, 'PRODUCT_NOT_FOUND', way.name);
      const seen = await way.call('GET', `/api/inventory/${mug.id}`, { token: m2.accessToken });
      assert.equal(seen.status, 200, `${way.name}: ${seen.text}`);
      assert.deepEqual(seen.body, { productId: mug.id, available: before.available }, way.name);
      const owner = await way.call('GET', `/api/inventory/${mug.id}`, { token: m1.accessToken });
      assert.deepEqual(owner.body, before, `${way.name}: the owner sees the counts`);
    }
    const byAdmin = await api(system, 'PUT', `/api/inventory/${mug.id}`, {
      token: admin.accessToken,
      body: { onHand: before.onHand },
    });
    assert.equal(byAdmin.status, 200, `an admin may set it: ${byAdmin.text}`);
    assert.deepEqual(await stockOf(system, m1, mug.id), before);
  });

  test("a merchant's order list shows only their own lines of a mixed order, and totals only those", async () => {
    for (const way of await ways('orders')) {
      for (const [merchant, product, quantity, other] of [
        [m1, mug, 2, m2],
        [m2, lamp, 1, m1],
      ] as const) {
        const res = await way.call('GET', '/api/merchant/orders?limit=100', { token: merchant.accessToken });
        assert.equal(res.status, 200, `${way.name}: ${res.text}`);
        const orders = res.body.items as Order[];
        const mixed = orders.find((o) => o.id === orderA.id);
        assert.ok(mixed, `${way.name}: the mixed order is listed for ${merchant.email}`);
        assert.deepEqual(
          mixed.items.map((l) => [l.productId, l.quantity, l.merchantId]),
          [[product.id, quantity, merchant.id]],
          way.name,
        );
        assert.equal(mixed.total, product.price * quantity, `${way.name}: the total of their lines only`);
        for (const order of orders) {
          assert.ok(
            order.items.every((l) => l.merchantId === merchant.id),
            `${way.name}: ${other.email}'s lines are not shown`,
          );
        }
      }
      const lampSeller = await way.call('GET', '/api/merchant/orders?limit=100', { token: m2.accessToken });
      assert.ok(
        !(lampSeller.body.items as Order[]).some((o) => o.id === orderB.id),
        `${way.name}: an order without m2's products is not listed for m2`,
      );
    }
  });

  test("an admin reads A's order and its payments, and lists everybody's orders", async () => {
    for (const way of await ways('orders')) {
      const one = await way.call('GET', `/api/orders/${orderA.id}`, { token: admin.accessToken });
      assert.equal(one.status, 200, `${way.name}: ${one.text}`);
      assert.deepEqual((one.body as unknown as Order).items, orderA.items, way.name);
      const all = await way.call('GET', '/api/orders?limit=100', { token: admin.accessToken });
      const ids = (all.body.items as Order[]).map((o) => o.id);
      assert.ok(ids.includes(orderA.id) && ids.includes(orderB.id), way.name);
    }
    for (const way of await ways('payments')) {
      const res = await way.call('GET', `/api/payments?orderId=${orderA.id}`, { token: admin.accessToken });
      assert.deepEqual(
        (res.body.items as Payment[]).map((p) => [p.orderId, p.status, p.amount]),
        [[orderA.id, 'CAPTURED', orderA.total]],
        way.name,
      );
    }
  });
});

/** An order id nobody has used: what refused internal calls tried to reserve and pay for. */
const ghostOrder = crypto.randomUUID();

/** The internal routes, with a call of each that would do harm or leak if it got through. */
function internalCalls() {
  return [
    {
      what: 'reserving stock',
      service: 'inventory',
      method: 'POST',
      path: '/internal/reservations',
      body: { orderId: ghostOrder, items: [{ productId: mug.id, quantity: 1 }] },
      wrong: ['cart', 'payments', 'gateway'],
    },
    {
      what: "returning the stock of A's order",
      service: 'inventory',
      method: 'POST',
      path: `/internal/reservations/${orderA.id}/return`,
      wrong: ['payments', 'gateway'],
    },
    {
      what: 'authorizing a payment',
      service: 'payments',
      method: 'POST',
      path: '/internal/payments',
      body: {
        orderId: ghostOrder,
        customerId: b.id,
        amount: 1,
        currency: orderA.currency,
        paymentToken: 'tok_visa',
      },
      wrong: ['cart', 'inventory', 'gateway'],
    },
    {
      what: "refunding A's payment",
      service: 'payments',
      method: 'POST',
      path: `/internal/payments/${orderA.id}/refund`,
      wrong: ['inventory', 'gateway'],
    },
    {
      what: "reading A's cart",
      service: 'cart',
      method: 'GET',
      path: `/internal/carts/${a.id}`,
      wrong: ['payments', 'inventory', 'gateway'],
    },
    {
      what: 'looking products up',
      service: 'catalog',
      method: 'POST',
      path: '/internal/products/lookup',
      body: { ids: [mug.id, spoon.id] },
      wrong: ['payments', 'gateway'],
    },
  ];
}

/**
 * Nothing the refused internal calls asked for happened: no reservation or payment exists for the
 * ghost order (the rightful caller, orders, finds none), A's order is untouched, no stock moved.
 */
async function assertInternalCallsChangedNothing(stock: unknown) {
  const orders = { serviceToken: await serviceToken('orders', 'inventory') };
  const commit = await direct('inventory', 'POST', `/internal/reservations/${ghostOrder}/commit`, orders);
  assert.deepEqual([commit.status, commit.body.code], [404, 'RESERVATION_NOT_FOUND'], commit.text);
  const capture = await direct('payments', 'POST', `/internal/payments/${ghostOrder}/capture`, {
    serviceToken: await serviceToken('orders', 'payments'),
  });
  assert.deepEqual([capture.status, capture.body.code], [404, 'PAYMENT_NOT_FOUND'], capture.text);
  await assertOrderAUntouched();
  assert.deepEqual(await stockLevels(), stock, 'no stock moved');
}

function stockLevels() {
  return Promise.all([
    stockOf(system, m1, mug.id),
    stockOf(system, m2, lamp.id),
    stockOf(system, m1, spoon.id),
  ]);
}

/** What a refused internal answer must not contain: A's cart line, the products' facts. */
function assertNothingLeaks(text: string, what: string) {
  assert.ok(!text.includes(spoon.id) && !text.includes(spoon.name), `${what}: the answer leaks nothing`);
}

describe('function level (API5): roles and callers decide which routes answer', () => {
  test('merchants and admins on the cart routes get 403, and no cart is made for them', async () => {
    for (const way of await ways('cart')) {
      for (const account of [m1, admin]) {
        for (const [method, path, body] of [
          ['GET', '/api/cart'],
          ['PUT', `/api/cart/items/${mug.id}`, { quantity: 1 }],
          ['DELETE', `/api/cart/items/${mug.id}`],
          ['DELETE', '/api/cart'],
        ] as const) {
          const res = await way.call(method, path, { token: account.accessToken, body });
          assert.equal(res.status, 403, `${way.name}: ${account.role} ${method} ${path}: ${res.text}`);
        }
      }
    }
    const db = new pg.Client({ connectionString: system.cluster.url('cart') });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM carts WHERE customer_id = ANY($1))
              + (SELECT count(*) FROM cart_lines WHERE customer_id = ANY($1)) AS n`,
        [[m1.id, admin.id]],
      );
      assert.equal(Number(rows[0]!.n), 0, 'no cart row for a merchant or an admin');
    } finally {
      await db.end();
    }
  });

  test('a customer cannot set stock (told the product is not theirs) nor see the counts; the stock stays', async () => {
    const before = await stockOf(system, m1, mug.id);
    for (const way of await ways('inventory')) {
      const put = await way.call('PUT', `/api/inventory/${mug.id}`, {
        token: a.accessToken,
        body: { onHand: 0 },
      });
      assert.ok([403, 404].includes(put.status), `${way.name}: ${put.status} ${put.text}`);
      const seen = await way.call('GET', `/api/inventory/${mug.id}`, { token: a.accessToken });
      assert.deepEqual(seen.body, { productId: mug.id, available: before.available }, way.name);
    }
    assert.deepEqual(await stockOf(system, m1, mug.id), before);
  });

  test("a customer on the merchants' order list gets 403", async () => {
    for (const way of await ways('orders')) {
      const res = await way.call('GET', '/api/merchant/orders', { token: a.accessToken });
      assert.equal(res.status, 403, `${way.name}: ${res.text}`);
      assert.ok(!res.text.includes(orderA.id));
    }
  });

  test('anonymous callers get 401 with a Bearer challenge on cart, orders, payments and stock changes; nothing changes', async () => {
    const stock = await stockLevels();
    const everyOrder = await orderIdsOf(admin);
    const calls: [string, string, string, unknown?, Record<string, string>?][] = [
      ['cart', 'GET', '/api/cart'],
      ['cart', 'PUT', `/api/cart/items/${mug.id}`, { quantity: 1 }],
      ['cart', 'DELETE', `/api/cart/items/${mug.id}`],
      ['cart', 'DELETE', '/api/cart'],
      [
        'orders',
        'POST',
        '/api/orders',
        { paymentToken: 'tok_visa', shippingAddress: ADDRESS },
        { 'idempotency-key': crypto.randomUUID() },
      ],
      ['orders', 'GET', '/api/orders'],
      ['orders', 'GET', `/api/orders/${orderA.id}`],
      ['orders', 'POST', `/api/orders/${orderA.id}/cancel`],
      ['orders', 'GET', '/api/merchant/orders'],
      ['payments', 'GET', `/api/payments?orderId=${orderA.id}`],
      ['payments', 'GET', '/api/payments'],
      ['inventory', 'PUT', `/api/inventory/${mug.id}`, { onHand: 0 }],
    ];
    for (const [service, method, path, body, headers] of calls) {
      for (const way of await ways(service)) {
        const res = await way.call(method, path, { body, headers });
        assert.equal(res.status, 401, `${way.name}: ${method} ${path}: ${res.text}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, `${way.name}: ${method} ${path}`);
        // A problem, never data (the path the caller sent may be echoed; nothing else is).
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, way.name);
        assert.ok(
          !/"items"|"onHand"|"status":"[A-Z]/.test(res.text),
          `${way.name}: ${method} ${path}: ${res.text}`,
        );
      }
    }
    await assertOrderAUntouched();
    assert.deepEqual(await stockLevels(), stock);
    assert.deepEqual(await orderIdsOf(admin), everyOrder, 'no order was made');
  });

  test("internal routes straight to their instance refuse a user token with 401, even an admin's or the owner's", async () => {
    await putInCart(system, a, spoon.id, 1);
    const stock = await stockLevels();
    for (const call of internalCalls()) {
      for (const account of [admin, a, m1]) {
        const res = await direct(call.service, call.method, call.path, {
          token: account.accessToken,
          body: call.body,
        });
        assert.equal(res.status, 401, `${call.what} as ${account.role}: ${res.text}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, call.what);
        assertNothingLeaks(res.text, call.what);
      }
    }
    await assertInternalCallsChangedNothing(stock);
  });

  test("internal routes refuse another service's token, the gateway's included, with 403; the named callers get through", async () => {
    await putInCart(system, a, spoon.id, 1);
    const stock = await stockLevels();
    for (const call of internalCalls()) {
      for (const from of call.wrong) {
        const res = await direct(call.service, call.method, call.path, {
          serviceToken: await serviceToken(from, call.service),
          body: call.body,
        });
        assert.equal(res.status, 403, `${call.what} by ${from}: ${res.text}`);
        assertNothingLeaks(res.text, `${call.what} by ${from}`);
      }
    }
    // The same tokens work for the callers the routes name, so the refusals above were the guards'.
    const cart = await direct('cart', 'GET', `/internal/carts/${a.id}`, {
      serviceToken: await serviceToken('orders', 'cart'),
    });
    assert.equal(cart.status, 200, cart.text);
    assert.ok(
      (cart.body.items as { productId: string }[]).some((l) => l.productId === spoon.id),
      'orders reads the cart',
    );
    for (const from of ['cart', 'orders', 'inventory']) {
      const lookup = await direct('catalog', 'POST', '/internal/products/lookup', {
        serviceToken: await serviceToken(from, 'catalog'),
        body: { ids: [spoon.id] },
      });
      assert.equal(lookup.status, 200, `${from}: ${lookup.text}`);
      assert.deepEqual(
        (lookup.body.items as { id: string }[]).map((p) => p.id),
        [spoon.id],
      );
    }
    await assertInternalCallsChangedNothing(stock);
  });

  test('the gateway routes no /internal path, even for an admin or through dot segments: 404', async () => {
    await putInCart(system, a, spoon.id, 1);
    const stock = await stockLevels();
    for (const call of internalCalls()) {
      for (const account of [admin, a]) {
        const res = await api(system, call.method, call.path, {
          token: account.accessToken,
          body: call.body,
        });
        assert.equal(res.status, 404, `${call.what} via the gateway as ${account.role}: ${res.text}`);
        assertNothingLeaks(res.text, call.what);
      }
    }
    // Sent raw: fetch would resolve the dot segments itself before anything left the test.
    for (const path of [
      `/api/cart/../../internal/carts/${a.id}`,
      `/api/cart/%2e%2e/%2e%2e/internal/carts/${a.id}`,
      `/api/orders/..%2f..%2finternal/carts/${a.id}`,
    ]) {
      const res = await rawGet(system.gatewayUrl, path, a.accessToken);
      assert.ok([400, 404].includes(res.status), `${path}: ${res.status} ${res.text}`);
      assertNothingLeaks(res.text, path);
    }
    await assertInternalCallsChangedNothing(stock);
  });
});

/** A GET whose path goes out exactly as written (no URL normalization). */
function rawGet(baseUrl: string, path: string, token: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('mass assignment (API3): fields the client may not set are refused, never obeyed', () => {
  test('a checkout naming its total, status, items or customer is refused (400) and orders nothing', async () => {
    await putInCart(system, a, spoon.id, 1);
    const stock = await stockLevels();
    const ordersOf = await Promise.all([orderIdsOf(a), orderIdsOf(b)]);
    const valid = { paymentToken: 'tok_visa', shippingAddress: ADDRESS };
    for (const extra of [
      { total: 1 },
      { status: 'CONFIRMED' },
      { items: [{ productId: spoon.id, quantity: 1, price: 0 }] },
      { customerId: b.id },
    ]) {
      const res = await api(system, 'POST', '/api/orders', {
        token: a.accessToken,
        headers: { 'idempotency-key': crypto.randomUUID() },
        body: { ...valid, ...extra },
      });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
    // The same body without the extra field passes validation (it stops at the price check).
    const control = await api(system, 'POST', '/api/orders', {
      token: a.accessToken,
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: { ...valid, expectedTotal: 1 },
    });
    assert.deepEqual([control.status, control.body.code], [409, 'PRICE_CHANGED'], control.text);
    assert.deepEqual(await Promise.all([orderIdsOf(a), orderIdsOf(b)]), ordersOf, 'no order was made');
    assert.deepEqual(await stockLevels(), stock, 'nothing was reserved');
    assert.ok(
      (await cartLines(a)).some(([id, q]) => id === spoon.id && q === 1),
      'the cart is kept',
    );
  });

  test("a cart line with a price or another customer's id is refused (400); the carts stay as they were", async () => {
    await putInCart(system, a, spoon.id, 1);
    const before = await Promise.all([cartLines(a), cartLines(b)]);
    for (const extra of [{ price: 1 }, { customerId: b.id }]) {
      const res = await api(system, 'PUT', `/api/cart/items/${spoon.id}`, {
        token: a.accessToken,
        body: { quantity: 5, ...extra },
      });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${res.text}`);
    }
    assert.deepEqual(await Promise.all([cartLines(a), cartLines(b)]), before);
    const cart = await api(system, 'GET', '/api/cart', { token: a.accessToken });
    const line = (cart.body.items as { productId: string; price: number }[]).find(
      (l) => l.productId === spoon.id,
    );
    assert.equal(line?.price, spoon.price, 'the price is the catalog’s');
  });

  test('a stock setting with reserved, sold or available is refused (400) and changes nothing', async () => {
    const before = await stockOf(system, m1, mug.id);
    for (const extra of [{ reserved: 0 }, { sold: 0 }, { available: 1000 }]) {
      const res = await api(system, 'PUT', `/api/inventory/${mug.id}`, {
        token: m1.accessToken,
        body: { onHand: before.onHand + 5, ...extra },
      });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${res.text}`);
    }
    assert.deepEqual(await stockOf(system, m1, mug.id), before);
    const control = await api(system, 'PUT', `/api/inventory/${mug.id}`, {
      token: m1.accessToken,
      body: { onHand: before.onHand },
    });
    assert.equal(control.status, 200, `the same body without them is fine: ${control.text}`);
  });
});

describe('business flow (API6)', () => {
  test("a checkout takes only the caller's cart, whatever customerId it names: B's order holds B's lines, A's cart and stock stay", async () => {
    for (const customer of [a, b]) {
      assert.equal((await api(system, 'DELETE', '/api/cart', { token: customer.accessToken })).status, 204);
    }
    await putInCart(system, a, spoon.id, 2);
    await putInCart(system, b, lamp.id, 1);
    const spoonStock = await stockOf(system, m1, spoon.id);
    const ordersOfA = await orderIdsOf(a);

    // There is no customerId parameter; one in the query is either refused or changes nothing.
    const named = await api(system, 'POST', `/api/orders?customerId=${a.id}`, {
      token: b.accessToken,
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: { paymentToken: 'tok_visa', shippingAddress: ADDRESS },
    });
    const order = named.status === 400 ? await placeOrder(b) : await confirmed(b, named);
    assert.deepEqual(
      order.items.map((l) => [l.productId, l.quantity]),
      [[lamp.id, 1]],
      "only B's line",
    );
    assert.equal(order.total, lamp.price);
    assert.ok((await orderIdsOf(b)).includes(order.id), "the order is B's");
    assert.deepEqual(await orderIdsOf(a), ordersOfA, 'A has no new order');
    assert.deepEqual(await cartLines(a), [[spoon.id, 2]], "A's cart is as A left it");
    assert.deepEqual(await stockOf(system, m1, spoon.id), spoonStock, "A's spoons were not reserved or sold");
  });
});
