import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createMetrics, ManualClock, outboxWriter, sleep } from '@bazaar/kit';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import pino from 'pino';
import { startExpiry } from '../src/jobs/expiry.ts';
import { inventoryMetrics } from '../src/metrics.ts';
import { loadReservation, reserveStock } from '../src/store/reservations.ts';
import { findStock, type StoreDeps, setOnHand } from '../src/store/stock.ts';
import { inventoryDatabase } from './support/database.ts';
import { ledgerViolations } from './support/ledger.ts';

let database: ServiceTestDatabase;
let deps: StoreDeps;
before(async () => {
  database = await inventoryDatabase();
  deps = { db: database.pool, events: outboxWriter('inventory') };
});
after(async () => {
  assert.deepEqual(await ledgerViolations(database.pool), []);
  await database.drop();
});

test('the running job gives back the stock of reservations whose time is up, and counts them', async () => {
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00.000Z'));
  const productId = randomUUID();
  await setOnHand(deps, productId, 5);
  const orderId = randomUUID();
  await reserveStock(deps, {
    orderId,
    lines: [{ productId, quantity: 3 }],
    expiresAt: new Date(clock.now() + 1_000),
  });
  const metrics = createMetrics('inventory-test');
  const job = startExpiry({
    deps,
    clock,
    log: pino({ level: 'silent' }),
    metrics: inventoryMetrics(metrics.registry),
    everyMs: 10,
  });
  try {
    clock.advance(1_000);
    // Poll for the outcome rather than time it: the job runs on its own interval.
    for (let i = 0; i < 200 && (await loadReservation(database.pool, orderId))?.status === 'RESERVED'; i++) {
      await sleep(10);
    }
  } finally {
    await job.stop();
  }
  assert.equal((await loadReservation(database.pool, orderId))?.status, 'EXPIRED');
  assert.deepEqual(await findStock(database.pool, productId), { available: 5, reserved: 0, sold: 0 });
  assert.match(
    await metrics.registry.metrics(),
    /bazaar_inventory_reservations_expired_total\{[^}]*by="job"[^}]*\} 1/,
  );
});
