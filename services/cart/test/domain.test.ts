import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProductFacts } from '@bazaar/contracts';
import { afterOrder, decideLineChange, MAX_LINES, priceCart } from '../src/domain/cart.ts';

const product = (id: string, price: number, hidden = false): ProductFacts => ({
  id,
  merchantId: 'm',
  name: `Product ${id}`,
  price,
  currency: 'USD',
  hidden,
});

test('0 removes a line; only a new line can overflow a full cart', () => {
  assert.equal(decideLineChange({ lineCount: 3, hasLine: true }, 0), 'remove');
  assert.equal(decideLineChange({ lineCount: 0, hasLine: false }, 1), 'set');
  assert.equal(decideLineChange({ lineCount: MAX_LINES - 1, hasLine: false }, 5), 'set');
  assert.equal(decideLineChange({ lineCount: MAX_LINES, hasLine: false }, 5), 'full');
  assert.equal(decideLineChange({ lineCount: MAX_LINES, hasLine: true }, 7), 'set');
});

test('a cart is priced line by line at the given prices, leaving out hidden and unknown products', () => {
  const facts = new Map([
    ['a', product('a', 250)],
    ['b', product('b', 1000, true)],
    ['d', product('d', 5)],
  ]);
  const cart = priceCart(
    [
      { productId: 'a', quantity: 3 },
      { productId: 'b', quantity: 1 },
      { productId: 'c', quantity: 2 },
      { productId: 'd', quantity: 4 },
    ],
    facts,
    'EUR',
  );
  assert.deepEqual(cart, {
    items: [
      { productId: 'a', name: 'Product a', price: 250, quantity: 3, lineTotal: 750 },
      { productId: 'd', name: 'Product d', price: 5, quantity: 4, lineTotal: 20 },
    ],
    total: 770,
    currency: 'EUR',
  });
});

test('a confirmed order takes only its quantities off the cart and removes lines that reach zero', () => {
  const lines = [
    { productId: 'a', quantity: 3 },
    { productId: 'b', quantity: 1 },
    { productId: 'c', quantity: 2 },
    { productId: 'd', quantity: 2 },
  ];
  assert.deepEqual(
    afterOrder(lines, [
      { productId: 'a', quantity: 1 },
      { productId: 'b', quantity: 1 },
      { productId: 'd', quantity: 1 },
      { productId: 'd', quantity: 4 },
      { productId: 'gone', quantity: 1 },
    ]),
    { set: [{ productId: 'a', quantity: 2 }], remove: ['b', 'd'] },
  );
});
