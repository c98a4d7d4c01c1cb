import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Payment, ProviderSettings } from '@bazaar/contracts';
import { buildApp } from '@bazaar/kit';
import {
  accessClaims,
  createServiceDatabase,
  type FakeIdentity,
  type FakeKey,
  newKey,
  type ServiceTestDatabase,
  serviceClaims,
  sign,
  startFakeIdentity,
} from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import { providerKey } from '../src/domain/payment.ts';
import { simulatedProvider } from '../src/provider/simulated.ts';
import { paymentsService } from '../src/service.ts';

let database: ServiceTestDatabase;
let identity: FakeIdentity;
let key: FakeKey;
let app: FastifyInstance;
const settings: ProviderSettings = { declineRate: 0, errorRate: 0, latencyMs: 0 };

before(async () => {
  database = await createServiceDatabase('payments_test', new URL('../migrations/', import.meta.url));
  key = await newKey();
  identity = await startFakeIdentity([key]);
  ({ app } = await buildApp(paymentsService({ settings }), {
    db: database.pool,
    env: { BAZAAR_IDENTITY_URL: identity.url, BAZAAR_SERVICE_CREDENTIAL: 'x'.repeat(20) },
  }));
});
after(async () => {
  await app.close();
  await identity.close();
  await database.drop();
});

const now = () => Math.floor(Date.now() / 1000);
const serviceToken = (svc: string) => sign(key, serviceClaims(now(), svc, 'payments'), { typ: 'st+jwt' });
const asOrders = async () => ({ 'bazaar-service-token': await serviceToken('orders') });
const asUser = async (sub: string, role = 'customer') => ({
  authorization: `Bearer ${await sign(key, accessClaims(now(), { sub, role }))}`,
});

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  json<T = unknown>(): T;
}

async function authorize(
  orderId: string,
  over: { customerId?: string; amount?: number; paymentToken?: string } = {},
): Promise<Answer> {
  return app.inject({
    method: 'POST',
    url: '/internal/payments',
    headers: await asOrders(),
    payload: {
      orderId,
      customerId: over.customerId ?? 'customer-1',
      amount: over.amount ?? 2500,
      currency: 'USD',
      paymentToken: over.paymentToken ?? 'tok_visa',
    },
  });
}

async function step(orderId: string, name: 'capture' | 'void' | 'refund'): Promise<Answer> {
  return app.inject({
    method: 'POST',
    url: `/internal/payments/${orderId}/${name}`,
    headers: await asOrders(),
  });
}

async function ledger(orderId: string): Promise<{ kind: string; amount: number }[]> {
  const { rows } = await database.pool.query(
    'SELECT kind, amount FROM payment_ledger WHERE order_id = $1 ORDER BY id',
    [orderId],
  );
  return rows;
}

async function count(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await database.pool.query(`SELECT count(*)::int AS n FROM ${sql}`, values);
  return rows[0].n;
}

const providerAuthorizations = (orderId: string) =>
  count(`provider_operations WHERE idempotency_key = $1`, [providerKey('authorize', orderId)]);
const events = (orderId: string) =>
  count(`kit_outbox WHERE type = 'payments.payment-changed' AND subject = $1`, [orderId]);

function assertProblem(res: Answer, status: number, code: string): void {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json<{ code: string }>().code, code);
}

describe('authorize', () => {
  test('a repeated authorize answers the same payment: one provider authorization, one ledger row, one event', async () => {
    const orderId = randomUUID();
    const first = await authorize(orderId);
    assert.equal(first.statusCode, 200);
    const payment = first.json<Payment>();
    assert.equal(payment.status, 'AUTHORIZED');
    assert.equal(payment.amount, 2500);
    const again = await authorize(orderId);
    assert.deepEqual(again.json(), payment);
    assert.equal(await providerAuthorizations(orderId), 1);
    assert.deepEqual(await ledger(orderId), [{ kind: 'authorize', amount: 2500 }]);
    assert.equal(await events(orderId), 1);
  });

  test('two authorizes of one order at the same time authorize it once', async () => {
    const orderId = randomUUID();
    const [a, b] = await Promise.all([authorize(orderId), authorize(orderId)]);
    assert.equal(a.json<Payment>().id, b.json<Payment>().id);
    assert.equal(await providerAuthorizations(orderId), 1);
    assert.equal((await ledger(orderId)).length, 1);
  });

  test('when the provider authorized but payments never recorded it, the retry records that same hold', async () => {
    const orderId = randomUUID();
    // The provider's side committed; payments crashed before its own transaction did.
    const lost = simulatedProvider({ db: database.pool, settings });
    await lost.authorize(providerKey('authorize', orderId), 2500, 'USD', 'tok_visa');
    const res = await authorize(orderId);
    assert.equal(res.json<Payment>().status, 'AUTHORIZED');
    assert.equal(await providerAuthorizations(orderId), 1);
    assert.equal((await ledger(orderId)).length, 1);
  });

  test('a void that finds no payment releases a hold the provider made whose answer was lost', async () => {
    const orderId = randomUUID();
    const lost = simulatedProvider({ db: database.pool, settings });
    await lost.authorize(providerKey('authorize', orderId), 2500, 'USD', 'tok_visa');
    const res = await step(orderId, 'void');
    assert.equal(res.json<Payment>().status, 'VOIDED');
    assert.equal(
      await count(`provider_operations WHERE idempotency_key = $1 AND operation = 'void'`, [
        providerKey('void', orderId),
      ]),
      1,
    );
    assert.equal(
      (await authorize(orderId)).json<Payment>().status,
      'VOIDED',
      'a late authorize changes nothing',
    );
  });

  test('declined cards give a DECLINED payment with the code, and no ledger row', async () => {
    for (const [token, code] of [
      ['tok_chargeDeclined', 'card_declined'],
      ['tok_insufficientFunds', 'insufficient_funds'],
    ]) {
      const orderId = randomUUID();
      const payment = (await authorize(orderId, { paymentToken: token })).json<Payment>();
      assert.equal(payment.status, 'DECLINED', token);
      assert.equal(payment.declineCode, code);
      assert.deepEqual(await ledger(orderId), []);
      assert.equal(await events(orderId), 1);
    }
  });

  test('a provider error is 503 with Retry-After, records nothing, and the retry succeeds', async () => {
    const orderId = randomUUID();
    settings.errorRate = 1;
    try {
      const res = await authorize(orderId);
      assertProblem(res, 503, 'PAYMENT_PROVIDER_ERROR');
      assert.equal(res.headers['retry-after'], '1');
    } finally {
      settings.errorRate = 0;
    }
    assert.equal(await count('payments WHERE order_id = $1', [orderId]), 0);
    assert.deepEqual(await ledger(orderId), []);
    assert.equal(await events(orderId), 0);
    assert.equal((await authorize(orderId)).json<Payment>().status, 'AUTHORIZED');
  });

  test('an authorize after a void that came first stays VOIDED with 0 and authorizes nothing', async () => {
    const orderId = randomUUID();
    const tombstone = (await step(orderId, 'void')).json<Payment>();
    assert.deepEqual({ status: tombstone.status, amount: tombstone.amount }, { status: 'VOIDED', amount: 0 });
    const late = await authorize(orderId);
    assert.equal(late.statusCode, 200);
    assert.deepEqual(late.json(), tombstone);
    assert.equal(await providerAuthorizations(orderId), 0);
    assert.deepEqual(await ledger(orderId), []);
  });

  test('a body outside the contract is 400 and records nothing', async () => {
    const orderId = randomUUID();
    for (const payload of [
      { orderId, customerId: 'c', amount: -1, currency: 'USD', paymentToken: 'tok_visa' },
      { orderId, customerId: 'c', amount: 1.5, currency: 'USD', paymentToken: 'tok_visa' },
      { orderId, customerId: 'c', amount: 1, currency: 'usd', paymentToken: 'tok_visa' },
      { orderId, customerId: 'c', amount: 1, currency: 'USD', paymentToken: 'tok_visa', status: 'CAPTURED' },
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/internal/payments',
        headers: await asOrders(),
        payload,
      });
      assertProblem(res, 400, 'VALIDATION_FAILED');
    }
    assert.equal(await count('payments WHERE order_id = $1', [orderId]), 0);
  });
});

describe('capture, void, refund', () => {
  test('capture takes exactly the authorized amount once; a repeat answers CAPTURED', async () => {
    const orderId = randomUUID();
    await authorize(orderId, { amount: 1234 });
    const captured = await step(orderId, 'capture');
    assert.equal(captured.json<Payment>().status, 'CAPTURED');
    assert.deepEqual((await step(orderId, 'capture')).json(), captured.json());
    assert.deepEqual(await ledger(orderId), [
      { kind: 'authorize', amount: 1234 },
      { kind: 'capture', amount: 1234 },
    ]);
    assert.equal(await events(orderId), 2);
  });

  test('capture of a declined or voided payment is 409 INVALID_STATE; of no payment, 404', async () => {
    const declined = randomUUID();
    await authorize(declined, { paymentToken: 'tok_chargeDeclined' });
    assertProblem(await step(declined, 'capture'), 409, 'INVALID_STATE');
    const voided = randomUUID();
    await authorize(voided);
    await step(voided, 'void');
    assertProblem(await step(voided, 'capture'), 409, 'INVALID_STATE');
    assertProblem(await step(randomUUID(), 'capture'), 404, 'PAYMENT_NOT_FOUND');
    assert.deepEqual(
      (await ledger(voided)).map((e) => e.kind),
      ['authorize', 'void'],
    );
  });

  test('void releases an authorization once and nets to zero; declined and voided answer as they are', async () => {
    const orderId = randomUUID();
    await authorize(orderId, { amount: 800 });
    assert.equal((await step(orderId, 'void')).json<Payment>().status, 'VOIDED');
    assert.equal((await step(orderId, 'void')).json<Payment>().status, 'VOIDED');
    const effects = await ledger(orderId);
    assert.deepEqual(effects, [
      { kind: 'authorize', amount: 800 },
      { kind: 'void', amount: 800 },
    ]);
    const declined = randomUUID();
    await authorize(declined, { paymentToken: 'tok_insufficientFunds' });
    assert.equal((await step(declined, 'void')).json<Payment>().status, 'DECLINED');
    assert.deepEqual(await ledger(declined), []);
  });

  test('void of a captured payment is 409 and changes nothing', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    await step(orderId, 'capture');
    assertProblem(await step(orderId, 'void'), 409, 'INVALID_STATE');
    assert.deepEqual(
      (await ledger(orderId)).map((e) => e.kind),
      ['authorize', 'capture'],
    );
  });

  test('refund twice is one refund of the captured amount; refund of an uncaptured payment is 409', async () => {
    const orderId = randomUUID();
    await authorize(orderId, { amount: 990 });
    assertProblem(await step(orderId, 'refund'), 409, 'INVALID_STATE');
    await step(orderId, 'capture');
    assert.equal((await step(orderId, 'refund')).json<Payment>().status, 'REFUNDED');
    assert.equal((await step(orderId, 'refund')).json<Payment>().status, 'REFUNDED');
    assert.deepEqual(await ledger(orderId), [
      { kind: 'authorize', amount: 990 },
      { kind: 'capture', amount: 990 },
      { kind: 'refund', amount: 990 },
    ]);
    assert.equal(await events(orderId), 3);
  });

  test('a provider error on capture is 503 and leaves the payment AUTHORIZED; the retry captures', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    settings.errorRate = 1;
    try {
      assertProblem(await step(orderId, 'capture'), 503, 'PAYMENT_PROVIDER_ERROR');
    } finally {
      settings.errorRate = 0;
    }
    assert.equal(await count(`payments WHERE order_id = $1 AND status = 'AUTHORIZED'`, [orderId]), 1);
    assert.equal((await ledger(orderId)).length, 1);
    assert.equal((await step(orderId, 'capture')).json<Payment>().status, 'CAPTURED');
  });

  test('provider calls are counted by operation and outcome', async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    assert.match(
      text,
      /bazaar_payment_provider_calls_total\{[^}]*operation="authorize"[^}]*outcome="authorized"/,
    );
    assert.match(
      text,
      /bazaar_payment_provider_calls_total\{[^}]*operation="authorize"[^}]*outcome="declined"/,
    );
    assert.match(text, /bazaar_payment_provider_calls_total\{[^}]*operation="capture"[^}]*outcome="error"/);
  });
});

describe('who may call', () => {
  const routes = (orderId: string) => [
    {
      method: 'POST' as const,
      url: '/internal/payments',
      payload: { orderId, customerId: 'c', amount: 1, currency: 'USD', paymentToken: 'tok_visa' },
    },
    { method: 'POST' as const, url: `/internal/payments/${orderId}/capture` },
    { method: 'POST' as const, url: `/internal/payments/${orderId}/void` },
    { method: 'POST' as const, url: `/internal/payments/${orderId}/refund` },
    // An empty body: the caller is refused before the body is judged, so it learns nothing of it.
    { method: 'POST' as const, url: '/internal/payments', payload: {} },
  ];

  test('internal routes refuse anonymous callers and user tokens (401), and services other than orders (403)', async () => {
    const orderId = randomUUID();
    for (const route of routes(orderId)) {
      assertProblem(await app.inject(route), 401, 'UNAUTHORIZED');
      assertProblem(
        await app.inject({ ...route, headers: await asUser(randomUUID(), 'admin') }),
        401,
        'UNAUTHORIZED',
      );
      assertProblem(
        await app.inject({ ...route, headers: { 'bazaar-service-token': await serviceToken('cart') } }),
        403,
        'FORBIDDEN',
      );
    }
    assert.equal(await count('payments WHERE order_id = $1', [orderId]), 0);
  });
});

describe('GET /api/payments', () => {
  const customer = randomUUID();
  const other = randomUUID();
  const orders: string[] = [];

  before(async () => {
    for (let i = 0; i < 3; i++) {
      const orderId = randomUUID();
      orders.push(orderId);
      await authorize(orderId, { customerId: customer, amount: 100 + i });
    }
    await authorize(randomUUID(), { customerId: other });
  });

  const list = async (query: string, headers: Record<string, string> = {}) =>
    app.inject({ url: `/api/payments${query}`, headers });

  test("a customer sees their own order's payment", async () => {
    const res = await list(`?orderId=${orders[0]}`, await asUser(customer));
    assert.equal(res.statusCode, 200);
    const page = res.json<{ items: Payment[]; nextCursor: string | null }>();
    assert.deepEqual(
      page.items.map((p) => [p.orderId, p.amount]),
      [[orders[0], 100]],
    );
    assert.equal(page.nextCursor, null);
  });

  test("another customer's order answers an empty list; a merchant sees nothing; anonymous is 401", async () => {
    assert.deepEqual((await list(`?orderId=${orders[0]}`, await asUser(other))).json(), {
      items: [],
      nextCursor: null,
    });
    assert.deepEqual((await list('', await asUser(randomUUID(), 'merchant'))).json(), {
      items: [],
      nextCursor: null,
    });
    assertProblem(await list(`?orderId=${orders[0]}`), 401, 'UNAUTHORIZED');
  });

  test('without orderId, all of the caller’s payments come newest first, page by page', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    const headers = await asUser(customer);
    while (cursor !== null) {
      const res = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers);
      const page = res.json<{ items: Payment[]; nextCursor: string | null }>();
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((p) => p.orderId));
      cursor = page.nextCursor;
    }
    // Rows made within one millisecond tie on time and fall back to id order: ask the table which is newest.
    const { rows } = await database.pool.query(
      'SELECT order_id FROM payments WHERE customer_id = $1 ORDER BY created_at DESC, id DESC',
      [customer],
    );
    assert.deepEqual(
      seen,
      rows.map((r) => r.order_id),
    );
    assert.deepEqual([...seen].sort(), [...orders].sort());
  });

  test('an admin sees every payment of an order', async () => {
    const res = await list(`?orderId=${orders[1]}`, await asUser(randomUUID(), 'admin'));
    assert.deepEqual(
      res.json<{ items: Payment[] }>().items.map((p) => p.orderId),
      [orders[1]],
    );
  });

  test('a bad cursor or limit is 400 naming the field', async () => {
    const headers = await asUser(customer);
    const bad = await list('?cursor=nope', headers);
    assertProblem(bad, 400, 'VALIDATION_FAILED');
    assert.deepEqual(
      bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path),
      ['querystring/cursor'],
    );
    assertProblem(await list('?limit=101', headers), 400, 'VALIDATION_FAILED');
  });
});
