import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReservationStatus } from '@bazaar/contracts';
import {
  decideStep,
  expiryOf,
  hasRunOut,
  mergeLines,
  type ReservationStep,
  toReservation,
} from '../src/domain/reservation.ts';
import { adjustmentTo, deltaOf, type MovementKind, stockView } from '../src/domain/stock.ts';

describe('reservation state rules', () => {
  const table: Record<ReservationStep, Record<ReservationStatus, string>> = {
    commit: {
      RESERVED: 'act',
      COMMITTED: 'as-is',
      RETURNED: 'as-is',
      EXPIRED: 'expired',
      RELEASED: 'expired',
      REJECTED: 'invalid',
    },
    release: {
      RESERVED: 'act',
      RELEASED: 'as-is',
      EXPIRED: 'as-is',
      REJECTED: 'as-is',
      COMMITTED: 'invalid',
      RETURNED: 'invalid',
    },
    return: {
      COMMITTED: 'act',
      RETURNED: 'as-is',
      RESERVED: 'invalid',
      RELEASED: 'invalid',
      EXPIRED: 'invalid',
      REJECTED: 'invalid',
    },
  };
  for (const [step, byStatus] of Object.entries(table) as [ReservationStep, Record<string, string>][]) {
    test(`${step}: acts, answers as is, or refuses according to the status`, () => {
      for (const [status, expected] of Object.entries(byStatus)) {
        assert.equal(decideStep(step, status as ReservationStatus), expected, `${step} on ${status}`);
      }
    });
  }

  test('a holding reservation has run out once its expiry time is reached, not before', () => {
    const expiresAt = new Date('2030-01-01T00:00:10.000Z');
    assert.equal(hasRunOut({ status: 'RESERVED', expiresAt }, new Date('2030-01-01T00:00:09.999Z')), false);
    assert.equal(hasRunOut({ status: 'RESERVED', expiresAt }, expiresAt), true);
    assert.equal(hasRunOut({ status: 'COMMITTED', expiresAt }, new Date('2031-01-01T00:00:00Z')), false);
  });

  test('a reservation expires ttlSeconds after it was made', () => {
    const now = new Date('2030-01-01T00:00:00.000Z');
    assert.equal(expiryOf(now, 600).toISOString(), '2030-01-01T00:10:00.000Z');
  });

  test('repeated products are summed and lines come in product-id order, ids in lower case', () => {
    const lines = mergeLines([
      { productId: 'bbb', quantity: 2 },
      { productId: 'AAA', quantity: 1 },
      { productId: 'bbb', quantity: 3 },
      { productId: 'aab', quantity: 1 },
    ]);
    assert.deepEqual(lines, [
      { productId: 'aaa', quantity: 1 },
      { productId: 'aab', quantity: 1 },
      { productId: 'bbb', quantity: 5 },
    ]);
  });

  test('a rejected reservation names its reason and short product; a held one its expiry', () => {
    assert.deepEqual(
      toReservation({
        orderId: 'o1',
        status: 'REJECTED',
        expiresAt: null,
        reason: 'OUT_OF_STOCK',
        productId: 'p1',
        lines: [],
      }),
      { orderId: 'o1', status: 'REJECTED', expiresAt: null, reason: 'OUT_OF_STOCK', productId: 'p1' },
    );
    assert.deepEqual(
      toReservation({
        orderId: 'o2',
        status: 'RESERVED',
        expiresAt: new Date('2030-01-01T00:10:00.000Z'),
        reason: null,
        productId: null,
        lines: [{ productId: 'p1', quantity: 1 }],
      }),
      { orderId: 'o2', status: 'RESERVED', expiresAt: '2030-01-01T00:10:00.000Z' },
    );
  });
});

describe('stock rules', () => {
  test('only an adjustment changes available + reserved + sold, and by its quantity', () => {
    const kinds: MovementKind[] = ['adjustment', 'reserve', 'release', 'expire', 'commit', 'return'];
    for (const kind of kinds) {
      const d = deltaOf(kind, 3);
      assert.equal(d.available + d.reserved + d.sold, kind === 'adjustment' ? 3 : 0, kind);
    }
    assert.deepEqual(deltaOf('reserve', 2), { available: -2, reserved: 2, sold: 0 });
    assert.deepEqual(deltaOf('commit', 2), { available: 0, reserved: -2, sold: 2 });
    assert.deepEqual(deltaOf('return', 2), { available: 2, reserved: 0, sold: -2 });
    assert.deepEqual(deltaOf('expire', 2), { available: 2, reserved: -2, sold: 0 });
  });

  test('setting onHand adjusts by the difference, and refuses to go below what is reserved', () => {
    const levels = { available: 4, reserved: 3, sold: 10 };
    assert.equal(adjustmentTo(levels, 10), 3);
    assert.equal(adjustmentTo(levels, 7), 0);
    assert.equal(adjustmentTo(levels, 3), -4);
    assert.equal(adjustmentTo(levels, 2), 'below-reserved');
  });

  test('everyone sees available; only the full view shows onHand and reserved', () => {
    const levels = { available: 4, reserved: 3, sold: 10 };
    assert.deepEqual(stockView('p', levels, false), { productId: 'p', available: 4 });
    assert.deepEqual(stockView('p', levels, true), { productId: 'p', available: 4, onHand: 7, reserved: 3 });
    assert.deepEqual(stockView('p', null, false), { productId: 'p', available: 0 });
  });
});
