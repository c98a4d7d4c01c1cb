import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Cart, CartContents, EventEnvelope, OrderConfirmedEvent, ProductFacts } from '@bazaar/contracts';
import {
  buildApp,
  type ServiceClient as Client,
  createMetrics,
  ServiceClient,
  withTransaction,
} from '@bazaar/kit';
import {
  accessClaims,
  createServiceDatabase,
  type FakeIdentity,
  type FakeKey,
  newKey,
  type ServiceTestDatabase,
  StaticInstances,
  serviceClaims,
  sign,
  startFakeIdentity,
} from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Agent } from 'undici';
import cart from '../src/service.ts';

/** A stand-in for catalog's `POST /internal/products/lookup`: the products it knows, by id. */
const products = new Map<string, ProductFacts>();
let catalogStatus = 200;
let catalog: Server;
let catalogAddress: string;
const instances = new StaticInstances();
const dispatcher = new Agent();

let database: ServiceTestDatabase;
let identity: FakeIdentity;
let key: FakeKey;
let app: FastifyInstance;

before(async () => {
  catalog = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url !== '/internal/products/lookup' || req.method !== 'POST') {
        res.statusCode = 404;
        return res.end('{"code":"ROUTE_NOT_FOUND"}');
      }
      if (catalogStatus !== 200) {
        res.statusCode = catalogStatus;
        return res.end('{"code":"INTERNAL"}');
      }
      const { ids } = JSON.parse(raw) as { ids: string[] };
      res.end(JSON.stringify({ items: ids.flatMap((id) => products.get(id) ?? []) }));
    });
  });
  await new Promise<void>((resolve) => catalog.listen(0, '127.0.0.1', resolve));
  catalogAddress = `127.0.0.1:${(catalog.address() as AddressInfo).port}`;

  database = await createServiceDatabase('cart_test', new URL('../migrations/', import.meta.url));
  key = await newKey();
  identity = await startFakeIdentity([key]);
  const metrics = createMetrics('cart-test');
  const clients = new Map<string, Client>();
  ({ app } = await buildApp(cart, {
    db: database.pool,
    env: { BAZAAR_IDENTITY_URL: identity.url, BAZAAR_SERVICE_CREDENTIAL: 'x'.repeat(20) },
    client: (target) => {
      let client = clients.get(target);
      if (!client) {
        client = new ServiceClient({
          target,
          source: instances,
          dispatcher,
          metrics,
          log: pino({ level: 'silent' }),
        });
        clients.set(target, client);
      }
      return client;
    },
  }));
});
after(async () => {
  await app.close();
  await identity.close();
  catalog.closeAllConnections();
  catalog.close();
  await dispatcher.close();
  await database.drop();
});
beforeEach(() => {
  catalogStatus = 200;
  instances.set('catalog', [catalogAddress]);
});

function addProduct(price: number, hidden = false): string {
  const id = randomUUID();
  products.set(id, { id, merchantId: 'merchant-1', name: `Thing ${price}`, price, currency: 'USD', hidden });
  return id;
}

const now = () => Math.floor(Date.now() / 1000);
const asUser = async (sub: string, role = 'customer') => ({
  authorization: `Bearer ${await sign(key, accessClaims(now(), { sub, role }))}`,
});
const asService = async (svc: string) => ({
  'bazaar-service-token': await sign(key, serviceClaims(now(), svc, 'cart'), { typ: 'st+jwt' }),
});

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  json<T = unknown>(): T;
}

async function put(customer: string, productId: string, payload: unknown): Promise<Answer> {
  return app.inject({
    method: 'PUT',
    url: `/api/cart/items/${productId}`,
    headers: await asUser(customer),
    payload: payload as object,
  });
}

async function getCart(customer: string): Promise<Answer> {
  return app.inject({ url: '/api/cart', headers: await asUser(customer) });
}

async function stored(customer: string): Promise<CartContents['items']> {
  const res = await app.inject({ url: `/internal/carts/${customer}`, headers: await asService('orders') });
  assert.equal(res.statusCode, 200);
  return res.json<CartContents>().items;
}

function assertProblem(res: Answer, status: number, code: string): void {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json<{ code: string }>().code, code);
}

describe('the customer’s cart', () => {
  test('an empty cart has no lines, a total of 0 and the store currency', async () => {
    const res = await getCart(randomUUID());
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { items: [], total: 0, currency: 'USD' });
  });

  test('setting a line answers the cart, and the cart shows prices as they are now', async () => {
    const customer = randomUUID();
    const a = addProduct(250);
    const b = addProduct(1000);
    await put(customer, a, { quantity: 2 });
    const res = await put(customer, b, { quantity: 1 });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      items: [
        { productId: a, name: 'Thing 250', price: 250, quantity: 2, lineTotal: 500 },
        { productId: b, name: 'Thing 1000', price: 1000, quantity: 1, lineTotal: 1000 },
      ],
      total: 1500,
      currency: 'USD',
    });
    products.set(a, { ...products.get(a)!, price: 300 });
    assert.equal((await getCart(customer)).json<Cart>().total, 1600);
    // A changed line keeps its place, and the answer is the cart as it is stored.
    const changed = await put(customer, a, { quantity: 5 });
    assert.deepEqual(
      changed.json<Cart>().items.map((l) => [l.productId, l.quantity]),
      [
        [a, 5],
        [b, 1],
      ],
    );
    assert.deepEqual(changed.json(), (await getCart(customer)).json());
  });

  test('a quantity of −1, 100, 1.5 or none is 400 and changes nothing', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    await put(customer, a, { quantity: 3 });
    for (const payload of [
      { quantity: -1 },
      { quantity: 100 },
      { quantity: 1.5 },
      {},
      { quantity: 1, price: 0 },
    ]) {
      assertProblem(await put(customer, a, payload), 400, 'VALIDATION_FAILED');
    }
    assert.deepEqual(await stored(customer), [{ productId: a, quantity: 3 }]);
  });

  test('a quantity of 0 removes the line', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    const b = addProduct(200);
    await put(customer, a, { quantity: 3 });
    await put(customer, b, { quantity: 1 });
    const res = await put(customer, a, { quantity: 0 });
    assert.deepEqual(
      res.json<Cart>().items.map((l) => l.productId),
      [b],
    );
    assert.deepEqual(await stored(customer), [{ productId: b, quantity: 1 }]);
  });

  test('an unknown or hidden product is 404 and is not stored', async () => {
    const customer = randomUUID();
    assertProblem(await put(customer, randomUUID(), { quantity: 1 }), 404, 'PRODUCT_NOT_FOUND');
    assertProblem(await put(customer, addProduct(100, true), { quantity: 1 }), 404, 'PRODUCT_NOT_FOUND');
    assert.deepEqual(await stored(customer), []);
  });

  test('a product hidden after it was added is left out of the answer but kept stored', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    const b = addProduct(700);
    await put(customer, a, { quantity: 1 });
    await put(customer, b, { quantity: 1 });
    products.set(b, { ...products.get(b)!, hidden: true });
    assert.deepEqual((await getCart(customer)).json<Cart>().total, 100);
    assert.equal((await stored(customer)).length, 2);
    products.set(b, { ...products.get(b)!, hidden: false });
    assert.deepEqual((await getCart(customer)).json<Cart>().total, 800);
  });

  test('a 101st line is 409 CART_FULL; changing one of the 100 still works', async () => {
    const customer = randomUUID();
    const ids = Array.from({ length: 100 }, () => addProduct(1));
    await database.pool.query('INSERT INTO carts (customer_id) VALUES ($1)', [customer]);
    await database.pool.query(
      `INSERT INTO cart_lines (customer_id, product_id, quantity) SELECT $1, unnest($2::text[]), 1`,
      [customer, ids],
    );
    assertProblem(await put(customer, addProduct(5), { quantity: 1 }), 409, 'CART_FULL');
    const changed = await put(customer, ids[0]!, { quantity: 2 });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.json<Cart>().total, 101);
    assert.equal((await stored(customer)).length, 100);
  });

  test('DELETE of a line answers the cart without it; DELETE /api/cart empties it with 204', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    const b = addProduct(200);
    await put(customer, a, { quantity: 1 });
    await put(customer, b, { quantity: 1 });
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/cart/items/${a}`,
      headers: await asUser(customer),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<Cart>().total, 200);
    const emptied = await app.inject({ method: 'DELETE', url: '/api/cart', headers: await asUser(customer) });
    assert.equal(emptied.statusCode, 204);
    assert.deepEqual(await stored(customer), []);
    assert.deepEqual((await getCart(customer)).json<Cart>().items, []);
  });

  test('with catalog unavailable, setting a line and showing the cart are 503 and nothing changes', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    await put(customer, a, { quantity: 1 });
    instances.set('catalog', []);
    assertProblem(await put(customer, addProduct(100), { quantity: 1 }), 503, 'SERVICE_UNAVAILABLE');
    assertProblem(await getCart(customer), 503, 'SERVICE_UNAVAILABLE');
    assert.deepEqual(await stored(customer), [{ productId: a, quantity: 1 }]);
  });

  test('a catalog that answers errors is 503 too', async () => {
    const customer = randomUUID();
    await put(customer, addProduct(100), { quantity: 1 });
    catalogStatus = 500;
    const res = await getCart(customer);
    assertProblem(res, 503, 'SERVICE_UNAVAILABLE');
    assert.ok(res.headers['retry-after']);
  });
});

describe('who may use a cart', () => {
  const routes = (productId: string) => [
    { method: 'GET' as const, url: '/api/cart' },
    { method: 'PUT' as const, url: `/api/cart/items/${productId}`, payload: { quantity: 1 } },
    { method: 'DELETE' as const, url: `/api/cart/items/${productId}` },
    { method: 'DELETE' as const, url: '/api/cart' },
  ];

  test('merchants and admins are 403, anonymous callers 401, and nothing is stored', async () => {
    const productId = addProduct(100);
    for (const route of routes(productId)) {
      for (const role of ['merchant', 'admin']) {
        const sub = randomUUID();
        assertProblem(await app.inject({ ...route, headers: await asUser(sub, role) }), 403, 'FORBIDDEN');
        assert.deepEqual(await stored(sub), []);
      }
      assertProblem(await app.inject(route), 401, 'UNAUTHORIZED');
    }
  });

  test('each customer sees and changes only their own cart', async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const a = addProduct(100);
    await put(alice, a, { quantity: 2 });
    assert.deepEqual((await getCart(bob)).json<Cart>().items, []);
    await app.inject({ method: 'DELETE', url: '/api/cart', headers: await asUser(bob) });
    await app.inject({ method: 'DELETE', url: `/api/cart/items/${a}`, headers: await asUser(bob) });
    assert.deepEqual(await stored(alice), [{ productId: a, quantity: 2 }]);
  });

  test('the stored lines are for orders only: a user token is 401, another service 403', async () => {
    const customer = randomUUID();
    await put(customer, addProduct(100), { quantity: 1 });
    const url = `/internal/carts/${customer}`;
    assertProblem(await app.inject({ url }), 401, 'UNAUTHORIZED');
    assertProblem(await app.inject({ url, headers: await asUser(customer) }), 401, 'UNAUTHORIZED');
    assertProblem(
      await app.inject({ url, headers: await asUser(randomUUID(), 'admin') }),
      401,
      'UNAUTHORIZED',
    );
    assertProblem(await app.inject({ url, headers: await asService('payments') }), 403, 'FORBIDDEN');
  });
});

describe('orders.order-confirmed', () => {
  const consumer = cart.consumers![0]!;
  const confirmed = (customerId: string, items: OrderConfirmedEvent['items']): EventEnvelope => ({
    id: randomUUID(),
    type: 'orders.order-confirmed',
    version: 1,
    source: 'orders',
    subject: randomUUID(),
    occurredAt: new Date().toISOString(),
    data: { orderId: randomUUID(), customerId, items, total: 0, currency: 'USD' },
  });
  const handle = (event: EventEnvelope) =>
    withTransaction(database.pool, (tx) => consumer.handle(event, tx, {} as never));

  test('takes only the ordered quantities off the cart; a line added after checkout stays', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    const b = addProduct(200);
    const later = addProduct(300);
    await put(customer, a, { quantity: 3 });
    await put(customer, b, { quantity: 1 });
    await put(customer, later, { quantity: 2 });
    const bystander = randomUUID();
    await put(bystander, a, { quantity: 3 });
    await handle(
      confirmed(customer, [
        { productId: a, quantity: 1 },
        { productId: b, quantity: 1 },
      ]),
    );
    assert.deepEqual(await stored(customer), [
      { productId: a, quantity: 2 },
      { productId: later, quantity: 2 },
    ]);
    assert.deepEqual(await stored(bystander), [{ productId: a, quantity: 3 }]);
  });

  test('a line with fewer than ordered is removed, and a customer without a cart gets none', async () => {
    const customer = randomUUID();
    const a = addProduct(100);
    await put(customer, a, { quantity: 1 });
    await handle(confirmed(customer, [{ productId: a, quantity: 5 }]));
    assert.deepEqual(await stored(customer), []);
    const nobody = randomUUID();
    await handle(confirmed(nobody, [{ productId: a, quantity: 1 }]));
    const { rows } = await database.pool.query('SELECT 1 FROM carts WHERE customer_id = $1', [nobody]);
    assert.equal(rows.length, 0);
  });
});
