/**
 * The shop on NATS JetStream instead of pg-boss: the test runs its own `nats-server` (the machine's
 * binary) on a free port with its own store, so it can stop and restart it without touching the
 * shared one. A journey's events flow through JetStream; then the server is stopped during a burst
 * of checkouts, the outboxes grow, and they drain when it is back — nothing lost.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Order } from '@bazaar/contracts';
import pg from 'pg';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api, signUp } from '../security/support.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { checkout, putInCart, settledOrder, stockedProduct } from './shop-support.ts';
import { assertInvariants, eventually, startTestSystem } from './support.ts';

function natsBinary(): string | undefined {
  for (const candidate of [process.env.BAZAAR_NATS_SERVER, '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next
    }
  }
  return undefined;
}

const binary = natsBinary();
if (!binary) {
  const message = '!!! SKIPPED: nats-server is not installed, so the JetStream system tests did NOT run';
  console.warn(`\n${message}\n`);
  if (process.env.CI === 'true') throw new Error(message);
}

const store = mkdtempSync(join(tmpdir(), 'bazaar-nats-'));
let natsPort: number;
let nats: ChildProcess | undefined;
let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let merchant: Account;
const acknowledged: string[] = [];

async function startNats(): Promise<void> {
  nats = spawn(binary!, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', store], {
    stdio: 'ignore',
  });
  await waitFor('nats-server to listen', async () => ((await portOpen(natsPort)) ? true : undefined), {
    timeoutMs: 10_000,
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function stopNats(): Promise<void> {
  const child = nats;
  nats = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

before(async () => {
  if (!binary) return;
  natsPort = await freePort();
  await startNats();
  handle = await startTestSystem({
    env: {
      BAZAAR_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      BAZAAR_NATS_STREAM: `BAZAAR_TEST_${crypto.randomUUID().slice(0, 8).toUpperCase()}`,
    },
  });
  system = handle.system;
  merchant = await signUp(system, 'merchant', 'merchant');
});
after(async () => {
  await handle?.stop();
  await stopNats();
  rmSync(store, { recursive: true, force: true });
});

async function cartItems(customer: Account): Promise<number | string> {
  const res = await api(system, 'GET', '/api/cart', { token: customer.accessToken });
  return res.status === 200 ? (res.body.items as unknown[]).length : res.status;
}

async function unsent(): Promise<number> {
  let total = 0;
  for (const db of ['orders', 'inventory', 'payments']) {
    const client = new pg.Client({ connectionString: system.cluster.url(db) });
    await client.connect();
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM kit_outbox WHERE sent_at IS NULL',
    );
    await client.end();
    total += Number(rows[0]?.n);
  }
  return total;
}

describe('on JetStream', { skip: !binary }, () => {
  test('a checkout: CONFIRMED; the cart empties and the catalog learns the stock, by events through JetStream', async () => {
    const customer = await signUp(system, 'jet', 'customer');
    const product = await stockedProduct(system, merchant, { price: 800, stock: 6 });
    await putInCart(system, customer, product.id, 2);
    const res = await checkout(system, customer);
    assert.ok([201, 202].includes(res.status), res.text);
    const order = res.body as unknown as Order;
    acknowledged.push(order.id);
    assert.equal((await settledOrder(system, customer, order.id)).status, 'CONFIRMED');
    await eventually(
      'the cart',
      () => cartItems(customer),
      (n) => n === 0,
      { ms: 30_000 },
    );
    await eventually(
      'the catalog availability',
      async () => (await api(system, 'GET', `/api/products/${product.id}`)).body.available,
      (a) => a === 4,
      { ms: 30_000 },
    );
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });

  test('nats-server stopped during a burst of checkouts: the outboxes grow, then drain when it is back', async () => {
    const product = await stockedProduct(system, merchant, { price: 650, stock: 50 });
    const shoppers = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const account = await signUp(system, `jetburst${i}`, 'customer');
        await putInCart(system, account, product.id, 1);
        return account;
      }),
    );
    await stopNats();
    try {
      const answers = await Promise.all(shoppers.map((s) => checkout(system, s)));
      const orders = answers.map((res) => {
        assert.ok([201, 202].includes(res.status), res.text);
        const order = res.body as unknown as Order;
        acknowledged.push(order.id);
        return order;
      });
      const settled = await Promise.all(orders.map((o, i) => settledOrder(system, shoppers[i]!, o.id)));
      assert.ok(
        settled.every((o) => o.status === 'CONFIRMED'),
        'the saga needs no bus',
      );
      const waiting = await unsent();
      assert.ok(waiting >= 12, `events wait in the outboxes while the bus is away (${waiting})`);
      assert.equal(await cartItems(shoppers[0]!), 1, 'carts cannot hear of the orders yet');
    } finally {
      await startNats();
    }
    await eventually('the outboxes', unsent, (n) => n === 0, { ms: 60_000 });
    for (const shopper of shoppers)
      await eventually(
        'a cart',
        () => cartItems(shopper),
        (n) => n === 0,
        { ms: 30_000 },
      );
    await assertInvariants(system, { acknowledgedOrders: acknowledged });
  });
});
