/**
 * The checkout saga under faults, on real processes, the embedded PostgreSQL and the pg-boss bus:
 * orders killed with SIGKILL right after every saga step (a crash point in orders marks each step,
 * once), and payments' answers lost on the way back (our TCP fault proxy stands in front of
 * payments, registered in its place through BAZAAR_ADVERTISE_HOST/PORT). Every test ends with the
 * invariant checker.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Order } from '@bazaar/contracts';
import pg from 'pg';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api, signUp } from '../security/support.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { freePort } from '../support/ports.ts';
import { checkout, putInCart, settledOrder, stockedProduct, stockOf } from './shop-support.ts';
import { assertInvariants, startTestSystem } from './support.ts';

/** Every point orders crashes at, once each: the steps of a confirmed, a cancelled and a declined order. */
const CRASH_POINTS = [
  'created',
  'reserved',
  'authorized',
  'committed',
  'captured',
  'returned',
  'refunded',
  'authorize-declined',
  'released',
].map((p) => `saga:${p}`);

const hookDir = mkdtempSync(join(tmpdir(), 'bazaar-saga-hooks-'));
let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let proxy: FaultProxy;
let merchant: Account;
const acknowledged: string[] = [];

before(async () => {
  const paymentsPort = await freePort();
  proxy = await startFaultProxy();
  proxy.target = { host: '127.0.0.1', port: paymentsPort };
  handle = await startTestSystem({
    restartBackoff: { initialMs: 200, maxMs: 1_000 },
    serviceEnv: {
      orders: {
        BAZAAR_TEST_HOOK_DIR: hookDir,
        BAZAAR_TEST_CRASH_AT: CRASH_POINTS.join(','),
        // A dead runner's lease runs out soon, and the sweep looks often, so resumption is quick.
        BAZAAR_SAGA_LEASE_SECONDS: '2',
        BAZAAR_SAGA_SWEEP_MS: '500',
        BAZAAR_PAYMENT_GIVE_UP_SECONDS: '4',
      },
      payments: {
        BAZAAR_PORT: String(paymentsPort),
        BAZAAR_ADVERTISE_HOST: '127.0.0.1',
        BAZAAR_ADVERTISE_PORT: String(proxy.port),
      },
    },
  });
  system = handle.system;
  merchant = await signUp(system, 'merchant', 'merchant');
});
after(async () => {
  await handle?.stop();
  await proxy?.close();
  rmSync(hookDir, { recursive: true, force: true });
});

const crashed = (point: string) => existsSync(join(hookDir, `crashed-at-${point.replaceAll(':', '_')}`));

/** Checks out with one key until an answer comes (orders may be down, crashed mid-request). */
async function checkoutThroughCrashes(customer: Account, paymentToken = 'tok_visa'): Promise<Order> {
  const key = crypto.randomUUID();
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await checkout(system, customer, { key, paymentToken });
    if ([200, 201, 202].includes(res.status)) {
      const order = res.body as unknown as Order;
      acknowledged.push(order.id);
      return order;
    }
    // Orders died while answering (502/503), or the first attempt's claim is still held (409).
    assert.ok([409, 502, 503, 504].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
    if (Date.now() > until) throw new Error(`no checkout answer within 30 s: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function providerCalls(orderId: string) {
  const client = new pg.Client({ connectionString: system.cluster.url('payments') });
  await client.connect();
  try {
    const { rows } = await client.query<{ operation: string; outcome: string }>(
      `SELECT operation, outcome FROM provider_operations WHERE idempotency_key LIKE $1 ORDER BY created_at`,
      [`${orderId}:%`],
    );
    return rows.map((r) => `${r.operation}:${r.outcome}`);
  } finally {
    await client.end();
  }
}

describe('crash at every step', () => {
  test('orders killed after each step of a confirmed, a cancelled and a declined order: each ends terminal, once', async () => {
    const customer = await signUp(system, 'crashy', 'customer');
    const product = await stockedProduct(system, merchant, { price: 1500, stock: 10 });
    const ordersPid = () => system.supervisor.pid('orders-1');
    const firstPid = ordersPid();

    await putInCart(system, customer, product.id, 2);
    const confirmed = await checkoutThroughCrashes(customer);
    const settled = await settledOrder(system, customer, confirmed.id, 60_000);
    assert.equal(settled.status, 'CONFIRMED', JSON.stringify(settled));
    for (const point of [
      'saga:created',
      'saga:reserved',
      'saga:authorized',
      'saga:committed',
      'saga:captured',
    ])
      assert.ok(crashed(point), `orders crashed at ${point}`);
    assert.notEqual(ordersPid(), firstPid, 'orders was restarted');
    assert.deepEqual(await providerCalls(confirmed.id), ['authorize:authorized', 'capture:done']);
    assert.equal((await stockOf(system, merchant, product.id)).available, 8);

    // The customer cancels the confirmed order: stock returned, payment refunded, through two more crashes.
    const until = Date.now() + 30_000;
    for (;;) {
      const res = await api(system, 'POST', `/api/orders/${confirmed.id}/cancel`, {
        token: customer.accessToken,
      });
      if ([200, 202].includes(res.status)) break;
      // An earlier attempt went through before orders died answering it.
      if (res.status === 409 && res.body.code === 'ALREADY_CANCELLED') break;
      assert.ok([502, 503, 504].includes(res.status), res.text);
      if (Date.now() > until) throw new Error(`cancel not accepted within 30 s: ${res.text}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // A confirmed order stays CONFIRMED while its stock is returned and its payment refunded.
    const cancelled = await settledOrder(
      system,
      customer,
      confirmed.id,
      60_000,
      (o) => o.status === 'CANCELLED',
    );
    assert.equal(cancelled.status, 'CANCELLED');
    assert.equal(cancelled.cancelReason, 'CUSTOMER_CANCELLED');

    // A declined card: the release of its stock survives a crash too.
    await putInCart(system, customer, product.id, 1);
    const declined = await checkoutThroughCrashes(customer, 'tok_chargeDeclined');
    const settledDeclined = await settledOrder(system, customer, declined.id, 60_000);
    assert.equal(settledDeclined.cancelReason, 'PAYMENT_DECLINED');
    for (const point of CRASH_POINTS) assert.ok(crashed(point), `orders crashed at ${point}`);
    assert.equal(readdirSync(hookDir).length, CRASH_POINTS.length);

    await assertInvariants(system, { acknowledgedOrders: acknowledged });
    const stock = await stockOf(system, merchant, product.id);
    assert.deepEqual([stock.available, stock.reserved], [10, 0], 'everything came back');
    await api(system, 'DELETE', '/api/cart', { token: customer.accessToken });
  });
});

describe('lost payment answer', () => {
  test('the provider authorizes but the answer never reaches orders: one authorization, the order CONFIRMED', async () => {
    const customer = await signUp(system, 'unlucky', 'customer');
    const product = await stockedProduct(system, merchant, { price: 2000, stock: 5 });
    await putInCart(system, customer, product.id, 1);
    proxy.mode = { kind: 'dropResponse', match: /^POST \/internal\/payments /, times: proxy.dropped + 1 };
    try {
      const res = await checkout(system, customer);
      assert.ok([201, 202].includes(res.status), res.text);
      const order = res.body as unknown as Order;
      acknowledged.push(order.id);
      const settled = await settledOrder(system, customer, order.id);
      assert.ok(proxy.dropped >= 1, 'an answer was lost');
      assert.equal(settled.status, 'CONFIRMED', JSON.stringify(settled));
      assert.deepEqual(await providerCalls(order.id), ['authorize:authorized', 'capture:done']);
    } finally {
      proxy.mode = { kind: 'pass' };
    }
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });

  test('every authorize answer lost: orders gives up, voids the hold it never heard of, CANCELLED PAYMENT_UNAVAILABLE', async () => {
    const customer = await signUp(system, 'unluckier', 'customer');
    const product = await stockedProduct(system, merchant, { price: 2000, stock: 5 });
    await putInCart(system, customer, product.id, 1);
    proxy.mode = { kind: 'dropResponse', match: /^POST \/internal\/payments /, times: proxy.dropped + 1_000 };
    let orderId: string;
    try {
      const res = await checkout(system, customer);
      assert.ok([201, 202].includes(res.status), res.text);
      orderId = (res.body as unknown as Order).id;
      acknowledged.push(orderId);
      const settled = await settledOrder(system, customer, orderId);
      assert.equal(settled.status, 'CANCELLED', JSON.stringify(settled));
      assert.equal(settled.cancelReason, 'PAYMENT_UNAVAILABLE');
    } finally {
      proxy.mode = { kind: 'pass' };
    }
    const calls = await providerCalls(orderId);
    assert.equal(calls.filter((c) => c === 'authorize:authorized').length, 1, calls.join(', '));
    assert.ok(calls.includes('void:done'), `the hold was voided: ${calls.join(', ')}`);
    assert.deepEqual(
      [
        (await stockOf(system, merchant, product.id)).available,
        (await stockOf(system, merchant, product.id)).reserved,
      ],
      [5, 0],
    );
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});
