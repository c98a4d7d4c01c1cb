/**
 * The invariant checker catches what it is meant to: each invariant is broken on purpose in real
 * copies of the orders, inventory and payments databases, and must be counted; a clean shop counts
 * nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createServiceDatabase, type ServiceTestDatabase } from '@bazaar/kit/testing';
import { checkInvariants, type ShopDatabases } from './invariants.ts';

const migrations = (service: string) => new URL(`../../services/${service}/migrations/`, import.meta.url);
let orders: ServiceTestDatabase;
let inventory: ServiceTestDatabase;
let payments: ServiceTestDatabase;
let dbs: ShopDatabases;

before(async () => {
  [orders, inventory, payments] = await Promise.all([
    createServiceDatabase('inv_orders', migrations('orders')),
    createServiceDatabase('inv_inventory', migrations('inventory')),
    createServiceDatabase('inv_payments', migrations('payments')),
  ]);
  dbs = {
    orders: orders.url,
    inventory: inventory.url,
    payments: payments.url,
    outboxes: { orders: orders.url, inventory: inventory.url },
  };
});
after(async () => {
  await Promise.all([orders?.drop(), inventory?.drop(), payments?.drop()]);
});

async function order(
  status: string,
  total: number,
  { cancelReason = null as string | null, ageSeconds = 0 } = {},
) {
  const id = randomUUID();
  await orders.pool.query(
    `INSERT INTO orders (id, customer_id, status, total, currency, shipping_address, cancel_reason,
                         saga_step, saga_stock, saga_payment, saga_step_started_at, saga_next_attempt_at, created_at)
     VALUES ($1, 'c1', $2, $3, 'USD', '{}', $4, $5, 'NONE', 'NONE', now(), now(), now() - make_interval(secs => $6))`,
    [id, status, total, cancelReason, status === 'PENDING' ? 'RESERVING' : 'DONE', ageSeconds],
  );
  return id;
}

async function payment(orderId: string, status: string, amount: number, kinds: string[]) {
  const ref = `auth_${randomUUID()}`;
  const { rows } = await payments.pool.query<{ id: string }>(
    `INSERT INTO payments (order_id, customer_id, status, amount, currency, provider_ref)
     VALUES ($1, 'c1', $2, $3, 'USD', $4) RETURNING id`,
    [orderId, status, amount, ref],
  );
  for (const kind of kinds) {
    await payments.pool.query(
      `INSERT INTO payment_ledger (payment_id, order_id, kind, amount, currency, provider_ref)
       VALUES ($1, $2, $3, $4, 'USD', $5)`,
      [rows[0]!.id, orderId, kind, amount, ref],
    );
    await payments.pool.query(
      `INSERT INTO provider_operations (idempotency_key, operation, outcome, ref, amount, currency)
       VALUES ($1, $2, $3, $4, $5, 'USD')`,
      [`${orderId}:${kind}`, kind, kind === 'authorize' ? 'authorized' : 'done', ref, amount],
    );
  }
}

async function reservation(
  orderId: string,
  productId: string,
  quantity: number,
  status: string,
  kinds: string[],
) {
  await inventory.pool.query(
    `INSERT INTO reservations (order_id, status, expires_at) VALUES ($1, $2, now() + interval '10 minutes')`,
    [orderId, status],
  );
  await inventory.pool.query(
    'INSERT INTO reservation_lines (order_id, product_id, quantity) VALUES ($1, $2, $3)',
    [orderId, productId, quantity],
  );
  for (const kind of kinds) {
    await inventory.pool.query(
      `INSERT INTO stock_ledger (product_id, order_id, kind, quantity, revision) VALUES ($1, $2, $3, $4, 0)`,
      [productId, orderId, kind, quantity],
    );
  }
}

const counts = async (options = {}) =>
  Object.fromEntries((await checkInvariants(dbs, options)).map((r) => [r.id, r.violations]));

test('a clean shop counts no violation', async () => {
  const product = randomUUID();
  await inventory.pool.query(
    `INSERT INTO stock (product_id, available, reserved, sold) VALUES ($1, 7, 0, 3)`,
    [product],
  );
  await inventory.pool.query(
    `INSERT INTO stock_ledger (product_id, kind, quantity, revision) VALUES ($1, 'adjustment', 10, 1)`,
    [product],
  );
  const confirmed = await order('CONFIRMED', 3000);
  await payment(confirmed, 'CAPTURED', 3000, ['authorize', 'capture']);
  await reservation(confirmed, product, 3, 'COMMITTED', ['reserve', 'commit']);
  const declined = await order('CANCELLED', 500, { cancelReason: 'PAYMENT_DECLINED' });
  await reservation(declined, product, 1, 'RELEASED', ['reserve', 'release']);
  assert.deepEqual(await counts({ acknowledgedOrders: [confirmed, declined] }), {
    I1: 0,
    I2: 0,
    I3: 0,
    I4: 0,
    I5: 0,
    I7: 0,
  });
});

test('each broken invariant is counted', async () => {
  // I1: confirmed but captured less than its total; cancelled but the hold never voided.
  const short = await order('CONFIRMED', 2000);
  await payment(short, 'CAPTURED', 1500, ['authorize', 'capture']);
  const held = await order('CANCELLED', 800, { cancelReason: 'OUT_OF_STOCK' });
  await payment(held, 'AUTHORIZED', 800, ['authorize']);
  // I2: a stock row that disagrees with its ledger.
  const product = randomUUID();
  await inventory.pool.query(
    `INSERT INTO stock (product_id, available, reserved, sold) VALUES ($1, 9, 0, 0)`,
    [product],
  );
  await inventory.pool.query(
    `INSERT INTO stock_ledger (product_id, kind, quantity, revision) VALUES ($1, 'adjustment', 5, 1)`,
    [product],
  );
  // I3: a checkout still PENDING after a minute.
  await order('PENDING', 100, { ageSeconds: 60 });
  // I4: an event never sent, and an acknowledged order that does not exist.
  await orders.pool.query(
    `INSERT INTO kit_outbox (id, type, subject, envelope) VALUES ($1, 'orders.order-confirmed', 'x', '{}')`,
    [randomUUID()],
  );
  // I7: stock released for an order that never reserved it.
  const ghost = await order('CANCELLED', 100, { cancelReason: 'OUT_OF_STOCK' });
  await inventory.pool.query(
    `INSERT INTO stock_ledger (product_id, order_id, kind, quantity, revision) VALUES ($1, $2, 'release', 1, 0)`,
    [randomUUID(), ghost],
  );

  const found = await counts({ acknowledgedOrders: [randomUUID()] });
  assert.equal(found.I1, 2, 'a short capture and a hold never voided');
  assert.ok(found.I2! >= 1, 'the stock row that disagrees with its ledger');
  assert.equal(found.I3, 1, 'the old PENDING order');
  assert.equal(found.I4, 2, 'the unsent event and the missing acknowledged order');
  assert.equal(found.I7, 1, 'the release without a reservation');
});
