import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OrderLine } from '@bazaar/contracts';
import { decodeCursor, encodeCursor, InvalidCursorError } from '@bazaar/contracts';
import {
  CLAIM_GRACE_MS,
  CLAIM_MAX_MS,
  canonicalJson,
  claimLifetime,
  judgeKey,
  type KeyRecord,
} from '../src/domain/idempotency.ts';
import { Order, OrderStateError } from '../src/domain/order.ts';
import { priceCart } from '../src/domain/pricing.ts';

const T0 = 1_700_000_000_000;
const address = { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' };
const line = (productId: string, price: number, quantity: number, merchantId = 'm1'): OrderLine => ({
  productId,
  name: `Product ${productId}`,
  price,
  quantity,
  lineTotal: price * quantity,
  merchantId,
});
const newOrder = () =>
  Order.place(
    {
      id: 'o1',
      customerId: 'c1',
      lines: [line('p1', 500, 2), line('p2', 250, 1)],
      currency: 'USD',
      shippingAddress: address,
    },
    T0,
  );

describe('an order', () => {
  test('is placed PENDING with the total of its lines', () => {
    const order = newOrder();
    assert.equal(order.status, 'PENDING');
    assert.equal(order.total, 1250);
    assert.equal(order.settled, false);
    assert.deepEqual(order.pullEvents(), []);
  });

  test('confirmed when its saga ends well, announcing the ordered lines so the cart can drop them', () => {
    const order = newOrder();
    for (let i = 0; i < 4; i++) order.recordOutcome({ kind: 'done' }, T0 + i);
    assert.equal(order.status, 'CONFIRMED');
    assert.deepEqual(order.pullEvents(), [
      {
        type: 'order-confirmed',
        data: {
          orderId: 'o1',
          customerId: 'c1',
          items: [
            { productId: 'p1', quantity: 2 },
            { productId: 'p2', quantity: 1 },
          ],
          total: 1250,
          currency: 'USD',
        },
      },
    ]);
    assert.deepEqual(order.pullEvents(), [], 'events are handed out once');
  });

  test('cancelled with the decline code when the card is declined, once the stock is released', () => {
    const order = newOrder();
    order.recordOutcome({ kind: 'done' }, T0);
    order.recordOutcome({ kind: 'declined', declineCode: 'card_declined' }, T0);
    assert.equal(order.status, 'PENDING', 'still releasing the stock');
    order.recordOutcome({ kind: 'done' }, T0);
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.cancelReason, 'PAYMENT_DECLINED');
    assert.equal(order.declineCode, 'card_declined');
    assert.deepEqual(order.pullEvents(), [
      {
        type: 'order-cancelled',
        data: { orderId: 'o1', customerId: 'c1', reason: 'PAYMENT_DECLINED', declineCode: 'card_declined' },
      },
    ]);
  });

  test('refuses transitions its state does not allow', () => {
    const order = newOrder();
    order.cancel('OUT_OF_STOCK', null, T0);
    assert.throws(() => order.confirm(T0), OrderStateError);
    assert.throws(() => order.cancel('CUSTOMER_CANCELLED', null, T0), OrderStateError);
    const confirmed = newOrder();
    confirmed.confirm(T0);
    assert.throws(() => confirmed.confirm(T0), OrderStateError);
    assert.throws(() => confirmed.cancel('OUT_OF_STOCK', null, T0), OrderStateError);
    assert.throws(() => newOrder().cancel('OUT_OF_STOCK', 'card_declined', T0), OrderStateError);
    assert.equal(confirmed.requestCancel(T0), 'requested');
    assert.equal(confirmed.status, 'CONFIRMED', 'stays confirmed until refunded and returned');
  });
});

describe('pricing a cart', () => {
  const facts = [
    { id: 'p1', merchantId: 'm1', name: 'Mug', price: 1200, currency: 'USD', hidden: false },
    { id: 'p2', merchantId: 'm2', name: 'Tea', price: 350, currency: 'USD', hidden: false },
    { id: 'p3', merchantId: 'm2', name: 'Old', price: 100, currency: 'USD', hidden: true },
  ];

  test('takes names, prices and merchants from the catalog and adds up the lines', () => {
    const priced = priceCart(
      {
        items: [
          { productId: 'p1', quantity: 2 },
          { productId: 'p2', quantity: 3 },
        ],
      },
      facts,
      'USD',
    );
    assert.deepEqual(priced.unavailable, []);
    assert.equal(priced.total, 2 * 1200 + 3 * 350);
    assert.deepEqual(priced.lines[1], {
      productId: 'p2',
      name: 'Tea',
      price: 350,
      quantity: 3,
      lineTotal: 1050,
      merchantId: 'm2',
    });
  });

  test('names hidden, unknown and foreign-currency products as unavailable', () => {
    const priced = priceCart(
      {
        items: [
          { productId: 'p1', quantity: 1 },
          { productId: 'p3', quantity: 1 },
          { productId: 'nope', quantity: 1 },
        ],
      },
      facts,
      'USD',
    );
    assert.deepEqual(priced.unavailable, ['p3', 'nope']);
    assert.deepEqual(
      priced.lines.map((l) => l.productId),
      ['p1'],
      'what the catalog no longer offers is left out, as the cart leaves it out',
    );
    assert.deepEqual(priceCart({ items: [{ productId: 'p1', quantity: 1 }] }, facts, 'EUR').unavailable, [
      'p1',
    ]);
  });

  test('merges a product listed twice into one line', () => {
    const priced = priceCart(
      {
        items: [
          { productId: 'p1', quantity: 1 },
          { productId: 'p1', quantity: 2 },
        ],
      },
      facts,
      'USD',
    );
    assert.equal(priced.lines.length, 1);
    assert.equal(priced.lines[0]?.quantity, 3);
  });
});

describe('idempotency keys', () => {
  const record = (over: Partial<KeyRecord> = {}): KeyRecord => ({
    requestHash: 'h1',
    orderId: 'o1',
    answerBy: T0 + 10_000,
    answeredAt: T0 + 100,
    ...over,
  });

  test('the same body written in another key order is the same request', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'x' } }),
      canonicalJson({ a: { c: 'x', d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
    assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
  });

  test('a repeat with the same body replays the order once the first request answered', () => {
    assert.equal(judgeKey(record(), 'h1', T0 + 200), 'replay');
  });

  test('a repeat with another body is refused, even while the first still works', () => {
    assert.equal(judgeKey(record(), 'h2', T0 + 200), 'reused');
    assert.equal(judgeKey(record({ orderId: null, answeredAt: null }), 'h2', T0 + 200), 'reused');
  });

  test('while the first request works (no order yet, or not answered) a repeat is told the key is in use', () => {
    assert.equal(judgeKey(record({ orderId: null, answeredAt: null }), 'h1', T0 + 200), 'in-use');
    assert.equal(judgeKey(record({ answeredAt: null }), 'h1', T0 + 200), 'in-use');
  });

  test('past its deadline, a claim without an order is taken over; an order whose answer was lost is replayed', () => {
    assert.equal(judgeKey(record({ orderId: null, answeredAt: null }), 'h1', T0 + 9_999), 'in-use');
    assert.equal(judgeKey(record({ orderId: null, answeredAt: null }), 'h1', T0 + 10_000), 'abandoned');
    assert.equal(judgeKey(record({ answeredAt: null }), 'h1', T0 + 10_000), 'replay');
  });

  test('a claim lasts its request deadline plus a grace, never longer than the cap', () => {
    assert.equal(claimLifetime(10_000), 10_000 + CLAIM_GRACE_MS);
    assert.equal(claimLifetime(-5), CLAIM_GRACE_MS);
    assert.equal(claimLifetime(600_000), CLAIM_MAX_MS + CLAIM_GRACE_MS);
  });
});

describe('order list cursors', () => {
  test('round-trip the position they name', () => {
    const position = { createdAt: '2024-05-01T10:00:00.123Z', id: '3f8c2a4e-0000-4000-8000-000000000001' };
    assert.deepEqual(decodeCursor(encodeCursor(position)), position);
  });

  test('refuse anything else', () => {
    for (const bad of ['', 'not a cursor', Buffer.from('{"t":"x","i":"y"}').toString('base64url'), 'e30']) {
      assert.throws(() => decodeCursor(bad), InvalidCursorError, bad);
    }
  });
});
