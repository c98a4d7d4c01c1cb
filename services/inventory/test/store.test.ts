import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { outboxWriter } from '@bazaar/kit';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import pg from 'pg';
import { mergeLines } from '../src/domain/reservation.ts';
import {
  commitReservation,
  expireDueReservations,
  loadReservation,
  releaseReservation,
  reserveStock,
  returnReservation,
} from '../src/store/reservations.ts';
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
  assert.deepEqual(await ledgerViolations(database.pool), [], 'invariant I2 holds after every test');
  await database.drop();
});

const NOW = new Date('2030-01-01T00:00:00.000Z');
const LATER = new Date('2030-01-01T00:10:00.000Z');

async function product(onHand: number): Promise<string> {
  const id = randomUUID();
  const result = await setOnHand(deps, id, onHand);
  assert.ok(!('refused' in result));
  return id;
}

function reserve(orderId: string, items: { productId: string; quantity: number }[], expiresAt = LATER) {
  return reserveStock(deps, { orderId, lines: mergeLines(items), expiresAt });
}

async function levels(productId: string) {
  return findStock(database.pool, productId);
}

async function ledger(orderId: string): Promise<string[]> {
  const { rows } = await database.pool.query<{ kind: string; product_id: string; quantity: number }>(
    'SELECT kind, product_id, quantity FROM stock_ledger WHERE order_id = $1 ORDER BY id',
    [orderId],
  );
  return rows.map((r) => `${r.kind} ${r.quantity}`);
}

async function outbox(type: string, subject: string) {
  const { rows } = await database.pool.query<{ envelope: { data: Record<string, unknown> } }>(
    'SELECT envelope FROM kit_outbox WHERE type = $1 AND subject = $2 ORDER BY seq',
    [type, subject],
  );
  return rows.map((r) => r.envelope.data);
}

describe('reserve', () => {
  test('a reservation holds every line, and a repeat with the same order id holds stock once', async () => {
    const [a, b] = [await product(5), await product(5)];
    const order = randomUUID();
    const first = await reserve(order, [
      { productId: a, quantity: 2 },
      { productId: b, quantity: 1 },
    ]);
    assert.equal(first.outcome, 'reserved');
    assert.equal(first.reservation.status, 'RESERVED');
    assert.equal(first.reservation.expiresAt?.toISOString(), LATER.toISOString());
    const again = await reserve(order, [{ productId: a, quantity: 2 }]);
    assert.equal(again.outcome, 'replayed');
    assert.equal(again.reservation.status, 'RESERVED');
    assert.deepEqual(await levels(a), { available: 3, reserved: 2, sold: 0 });
    assert.deepEqual(await levels(b), { available: 4, reserved: 1, sold: 0 });
  });

  test('concurrent reserves of one order hold its stock once', async () => {
    const a = await product(10);
    const order = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => reserve(order, [{ productId: a, quantity: 3 }])),
    );
    assert.deepEqual(results.map((r) => r.outcome).sort(), [
      'replayed',
      'replayed',
      'replayed',
      'replayed',
      'reserved',
    ]);
    assert.deepEqual(await levels(a), { available: 7, reserved: 3, sold: 0 });
  });

  test('a short line rejects the whole reservation, holds nothing and publishes nothing', async () => {
    const [a, b] = [await product(5), await product(1)];
    const order = randomUUID();
    const events = (await outbox('inventory.stock-changed', a)).length;
    const { reservation, outcome } = await reserve(order, [
      { productId: a, quantity: 2 },
      { productId: b, quantity: 2 },
    ]);
    assert.equal(outcome, 'rejected');
    assert.equal(reservation.status, 'REJECTED');
    assert.equal(reservation.reason, 'OUT_OF_STOCK');
    assert.equal(reservation.productId, b);
    assert.deepEqual(await levels(a), { available: 5, reserved: 0, sold: 0 });
    assert.deepEqual(await ledger(order), []);
    assert.equal((await outbox('inventory.stock-changed', a)).length, events);
  });

  test('a repeat answers the stored rejection even after stock came in', async () => {
    const a = await product(1);
    const order = randomUUID();
    assert.equal((await reserve(order, [{ productId: a, quantity: 2 }])).reservation.status, 'REJECTED');
    // One line, refused: nothing to roll back, nothing moved.
    assert.deepEqual(await levels(a), { available: 1, reserved: 0, sold: 0 });
    assert.deepEqual(await ledger(order), []);
    await setOnHand(deps, a, 10);
    const again = await reserve(order, [{ productId: a, quantity: 2 }]);
    assert.equal(again.reservation.status, 'REJECTED');
    assert.deepEqual(await levels(a), { available: 10, reserved: 0, sold: 0 });
  });

  test('a product inventory never stocked is out of stock', async () => {
    const ghost = randomUUID();
    const { reservation } = await reserve(randomUUID(), [{ productId: ghost, quantity: 1 }]);
    assert.equal(reservation.status, 'REJECTED');
    assert.equal(reservation.productId, ghost);
  });

  test('each reserve writes a ledger row and a stock-changed event with the next revision', async () => {
    const a = await product(5);
    await reserve(randomUUID(), [{ productId: a, quantity: 2 }]);
    await reserve(randomUUID(), [{ productId: a, quantity: 1 }]);
    assert.deepEqual(await outbox('inventory.stock-changed', a), [
      { productId: a, available: 5, revision: 1 },
      { productId: a, available: 3, revision: 2 },
      { productId: a, available: 2, revision: 3 },
    ]);
    const { rows } = await database.pool.query(
      'SELECT kind, quantity, revision::int AS revision FROM stock_ledger WHERE product_id = $1 ORDER BY id',
      [a],
    );
    assert.deepEqual(rows, [
      { kind: 'adjustment', quantity: 5, revision: 1 },
      { kind: 'reserve', quantity: 2, revision: 2 },
      { kind: 'reserve', quantity: 1, revision: 3 },
    ]);
  });

  test('200 concurrent reservations of 1–3 units never sell more than the stock of 10', async () => {
    const [a, b] = [await product(10), await product(10)];
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    try {
      const wide = { db: pool, events: deps.events };
      const orders = Array.from({ length: 200 }, (_, i) => {
        const items = [{ productId: a, quantity: 1 + (i % 3) }];
        // Every fourth order also wants b, listed first half of the time: locks must still not deadlock.
        if (i % 4 === 0) items[i % 8 === 0 ? 'unshift' : 'push']({ productId: b, quantity: 1 + (i % 2) });
        return { orderId: randomUUID(), items };
      });
      const results = await Promise.all(
        orders.map((o) =>
          reserveStock(wide, { orderId: o.orderId, lines: mergeLines(o.items), expiresAt: LATER }),
        ),
      );
      const held = new Map<string, number>();
      for (const [i, r] of results.entries()) {
        if (r.reservation.status !== 'RESERVED') continue;
        for (const line of orders[i]!.items)
          held.set(line.productId, (held.get(line.productId) ?? 0) + line.quantity);
      }
      for (const id of [a, b]) {
        const stock = (await levels(id))!;
        assert.ok(stock.reserved <= 10, `reserved ${stock.reserved} of 10`);
        assert.equal(stock.reserved, held.get(id) ?? 0);
        assert.equal(stock.available + stock.reserved, 10);
      }
      // Demand was far above supply: a rejection of 3 units or fewer leaves fewer than 3 of a.
      assert.ok((await levels(a))!.available < 3);
      assert.ok(results.some((r) => r.reservation.status === 'REJECTED'));
    } finally {
      await pool.end();
    }
    assert.deepEqual(await ledgerViolations(database.pool), []);
  });
});

describe('commit', () => {
  test('a commit sells what the reservation holds; a repeat answers COMMITTED and moves nothing', async () => {
    const a = await product(5);
    const order = randomUUID();
    await reserve(order, [{ productId: a, quantity: 2 }]);
    const first = await commitReservation(deps, order, NOW);
    assert.equal(first.outcome, 'applied');
    const again = await commitReservation(deps, order, NOW);
    assert.equal(again.outcome, 'as-is');
    assert.equal(again.outcome === 'as-is' && again.reservation.status, 'COMMITTED');
    assert.deepEqual(await levels(a), { available: 3, reserved: 0, sold: 2 });
    assert.deepEqual(await ledger(order), ['reserve 2', 'commit 2']);
    // Available did not move: the commit announces nothing, and the next event's revision skips it.
    assert.deepEqual(await outbox('inventory.stock-changed', a), [
      { productId: a, available: 5, revision: 1 },
      { productId: a, available: 3, revision: 2 },
    ]);
    await returnReservation(deps, order);
    assert.deepEqual((await outbox('inventory.stock-changed', a)).at(-1), {
      productId: a,
      available: 5,
      revision: 4,
    });
  });

  test('a commit after expiresAt expires the reservation on the spot and is refused', async () => {
    const a = await product(5);
    const order = randomUUID();
    await reserve(order, [{ productId: a, quantity: 2 }], NOW);
    const late = await commitReservation(deps, order, NOW);
    assert.deepEqual(late, { outcome: 'refused', refusal: 'RESERVATION_EXPIRED', expiredNow: true });
    assert.deepEqual(await levels(a), { available: 5, reserved: 0, sold: 0 });
    assert.equal((await loadReservation(database.pool, order))?.status, 'EXPIRED');
    assert.deepEqual(await outbox('inventory.reservation-expired', order), [{ orderId: order }]);
    assert.deepEqual(await commitReservation(deps, order, NOW), {
      outcome: 'refused',
      refusal: 'RESERVATION_EXPIRED',
    });
    assert.deepEqual(await ledger(order), ['reserve 2', 'expire 2']);
  });

  test('a commit of a released reservation is RESERVATION_EXPIRED, of none NOT_FOUND, of a rejected one INVALID_STATE', async () => {
    const a = await product(1);
    const released = randomUUID();
    await reserve(released, [{ productId: a, quantity: 1 }]);
    await releaseReservation(deps, released);
    const rejected = randomUUID();
    await reserve(rejected, [{ productId: a, quantity: 5 }]);
    const refusal = async (order: string) => {
      const r = await commitReservation(deps, order, NOW);
      return r.outcome === 'refused' ? r.refusal : r.outcome;
    };
    assert.equal(await refusal(released), 'RESERVATION_EXPIRED');
    assert.equal(await refusal(randomUUID()), 'RESERVATION_NOT_FOUND');
    assert.equal(await refusal(rejected), 'INVALID_STATE');
    assert.deepEqual(await levels(a), { available: 1, reserved: 0, sold: 0 });
  });
});

describe('release', () => {
  test('a release makes the stock available again; a repeat answers RELEASED and moves nothing', async () => {
    const a = await product(5);
    const order = randomUUID();
    await reserve(order, [{ productId: a, quantity: 4 }]);
    assert.equal((await releaseReservation(deps, order)).outcome, 'applied');
    const again = await releaseReservation(deps, order);
    assert.equal(again.outcome === 'as-is' && again.reservation.status, 'RELEASED');
    assert.deepEqual(await levels(a), { available: 5, reserved: 0, sold: 0 });
    assert.deepEqual(await ledger(order), ['reserve 4', 'release 4']);
  });

  test('a release that comes first leaves a tombstone: the late reserve answers RELEASED and holds nothing', async () => {
    const a = await product(5);
    const order = randomUUID();
    const early = await releaseReservation(deps, order);
    assert.equal(early.outcome === 'as-is' && early.reservation.status, 'RELEASED');
    const late = await reserve(order, [{ productId: a, quantity: 2 }]);
    assert.equal(late.outcome, 'replayed');
    assert.equal(late.reservation.status, 'RELEASED');
    assert.deepEqual(await levels(a), { available: 5, reserved: 0, sold: 0 });
  });

  test('a release of a rejected or expired reservation answers it as it is', async () => {
    const a = await product(1);
    const rejected = randomUUID();
    await reserve(rejected, [{ productId: a, quantity: 2 }]);
    const r = await releaseReservation(deps, rejected);
    assert.equal(r.outcome === 'as-is' && r.reservation.status, 'REJECTED');
    const expired = randomUUID();
    await reserve(expired, [{ productId: a, quantity: 1 }], NOW);
    await commitReservation(deps, expired, NOW);
    const e = await releaseReservation(deps, expired);
    assert.equal(e.outcome === 'as-is' && e.reservation.status, 'EXPIRED');
    assert.deepEqual(await levels(a), { available: 1, reserved: 0, sold: 0 });
  });

  test('a release of a committed reservation is INVALID_STATE and changes nothing', async () => {
    const a = await product(5);
    const order = randomUUID();
    await reserve(order, [{ productId: a, quantity: 2 }]);
    await commitReservation(deps, order, NOW);
    assert.deepEqual(await releaseReservation(deps, order), { outcome: 'refused', refusal: 'INVALID_STATE' });
    assert.deepEqual(await levels(a), { available: 3, reserved: 0, sold: 2 });
  });
});

describe('return', () => {
  test('a return puts sold stock back; a repeat answers RETURNED and moves nothing', async () => {
    const a = await product(5);
    const order = randomUUID();
    await reserve(order, [{ productId: a, quantity: 2 }]);
    await commitReservation(deps, order, NOW);
    assert.equal((await returnReservation(deps, order)).outcome, 'applied');
    const again = await returnReservation(deps, order);
    assert.equal(again.outcome === 'as-is' && again.reservation.status, 'RETURNED');
    assert.deepEqual(await levels(a), { available: 5, reserved: 0, sold: 0 });
    assert.deepEqual(await ledger(order), ['reserve 2', 'commit 2', 'return 2']);
    // The commit did happen: repeating it after the return answers as is, and sells nothing again.
    assert.equal((await commitReservation(deps, order, NOW)).outcome, 'as-is');
    assert.deepEqual(await levels(a), { available: 5, reserved: 0, sold: 0 });
  });

  test('a return of a reservation not committed is INVALID_STATE; of none NOT_FOUND', async () => {
    const a = await product(5);
    const order = randomUUID();
    await reserve(order, [{ productId: a, quantity: 2 }]);
    assert.deepEqual(await returnReservation(deps, order), { outcome: 'refused', refusal: 'INVALID_STATE' });
    assert.deepEqual(await returnReservation(deps, randomUUID()), {
      outcome: 'refused',
      refusal: 'RESERVATION_NOT_FOUND',
    });
    assert.deepEqual(await levels(a), { available: 3, reserved: 2, sold: 0 });
  });
});

describe('expiry', () => {
  test('the job expires only reservations whose time is up, once, with their event', async () => {
    const a = await product(5);
    const [due, fresh] = [randomUUID(), randomUUID()];
    const soon = new Date('2030-01-01T00:00:05.000Z');
    await reserve(due, [{ productId: a, quantity: 2 }], soon);
    await reserve(fresh, [{ productId: a, quantity: 1 }], LATER);
    const expired = await expireDueReservations(deps, soon);
    assert.ok(expired.includes(due));
    assert.ok(!expired.includes(fresh));
    assert.deepEqual(await expireDueReservations(deps, soon), []);
    assert.deepEqual(await levels(a), { available: 4, reserved: 1, sold: 0 });
    assert.equal((await loadReservation(database.pool, due))?.status, 'EXPIRED');
    assert.equal((await loadReservation(database.pool, fresh))?.status, 'RESERVED');
    assert.deepEqual(await outbox('inventory.reservation-expired', due), [{ orderId: due }]);
    const commit = await commitReservation(deps, due, NOW);
    assert.equal(commit.outcome === 'refused' && commit.refusal, 'RESERVATION_EXPIRED');
    // Clean up: the later tests' sweeps should not count this one.
    await releaseReservation(deps, fresh);
  });

  test('two sweeps at once expire each reservation exactly once', async () => {
    const a = await product(20);
    const orders: string[] = Array.from({ length: 8 }, () => randomUUID());
    for (const order of orders) await reserve(order, [{ productId: a, quantity: 2 }], NOW);
    const [one, two] = await Promise.all([
      expireDueReservations(deps, NOW),
      expireDueReservations(deps, NOW),
    ]);
    const mine = [...one, ...two].filter((o) => orders.includes(o));
    assert.equal(mine.length, orders.length);
    assert.equal(new Set(mine).size, orders.length);
    assert.deepEqual(await levels(a), { available: 20, reserved: 0, sold: 0 });
  });
});

describe('setting stock', () => {
  test('onHand below what is reserved is refused and nothing changes', async () => {
    const a = await product(5);
    await reserve(randomUUID(), [{ productId: a, quantity: 3 }]);
    const before = (
      await database.pool.query('SELECT count(*)::int AS n FROM stock_ledger WHERE product_id = $1', [a])
    ).rows[0].n;
    const result = await setOnHand(deps, a, 2);
    assert.ok('refused' in result && result.refused === 'BELOW_RESERVED');
    assert.deepEqual(await levels(a), { available: 2, reserved: 3, sold: 0 });
    const afterCount = (
      await database.pool.query('SELECT count(*)::int AS n FROM stock_ledger WHERE product_id = $1', [a])
    ).rows[0].n;
    assert.equal(afterCount, before);
  });

  test('setting onHand adjusts available by the difference; the same value again moves nothing', async () => {
    const a = await product(5);
    await reserve(randomUUID(), [{ productId: a, quantity: 3 }]);
    assert.deepEqual(await setOnHand(deps, a, 8), {
      levels: { available: 5, reserved: 3, sold: 0 },
      change: 3,
    });
    assert.deepEqual(await setOnHand(deps, a, 8), {
      levels: { available: 5, reserved: 3, sold: 0 },
      change: 0,
    });
    assert.deepEqual(
      (await outbox('inventory.stock-changed', a)).map((e) => e.revision),
      [1, 2, 3],
    );
  });
});
