/**
 * Degradation a shopper would want: with every inventory instance stopped, product pages and
 * search still answer from the catalog, with the last availability it learnt and when.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Product, ProductPage } from '@bazaar/contracts';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api, signUp } from '../security/support.ts';
import { setStock, stockedProduct } from './shop-support.ts';
import { eventually, startTestSystem } from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let merchant: Account;

before(async () => {
  handle = await startTestSystem();
  system = handle.system;
  merchant = await signUp(system, 'degrade-merchant', 'merchant');
});
after(async () => {
  await handle?.stop();
});

async function productSeen(id: string): Promise<Product> {
  const res = await api(system, 'GET', `/api/products/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body as unknown as Product;
}

test('inventory stopped: product pages and search still answer, with the last known availability and its age', async () => {
  const product = await stockedProduct(system, merchant, { stock: 7, name: 'Degradable teapot' });
  await setStock(system, merchant, product.id, 6);
  const known = await eventually(
    'catalog learns the stock',
    () => productSeen(product.id),
    (p) => p.available === 6,
  );
  assert.ok(known.availableAsOf, 'availability comes with the time it was learnt');
  const learntAt = Date.parse(known.availableAsOf);
  assert.ok(Date.now() - learntAt >= 0 && Date.now() - learntAt < 60_000);

  const inventorySlots = system.supervisor.slots().filter((s) => s.startsWith('inventory-'));
  assert.ok(inventorySlots.length > 0);
  for (const slot of inventorySlots) await system.supervisor.stopSlot(slot);
  try {
    // Inventory is down for real: its own route answers 503 at the gateway.
    const stock = await api(system, 'GET', `/api/inventory/${product.id}`, { token: merchant.accessToken });
    assert.equal(stock.status, 503, stock.text);
    assert.ok(stock.headers.get('retry-after'), '503 carries Retry-After');

    const page = await productSeen(product.id);
    assert.equal(page.available, 6);
    assert.equal(page.availableAsOf, known.availableAsOf);
    const search = await api(system, 'GET', `/api/products?q=${encodeURIComponent('Degradable teapot')}`);
    assert.equal(search.status, 200, search.text);
    const found = (search.body as unknown as ProductPage).items.find((p) => p.id === product.id);
    assert.ok(found, 'search still finds the product');
    assert.equal(found.available, 6);
    assert.equal(found.availableAsOf, known.availableAsOf);
  } finally {
    for (const slot of inventorySlots) system.supervisor.release(slot);
  }
  for (const slot of inventorySlots) await system.supervisor.waitReady(slot, 30_000);
  // Ready and registered; the gateway hears of it on the registry's watch a moment later.
  await eventually(
    'the gateway routes to inventory again',
    () =>
      api(system, 'PUT', `/api/inventory/${product.id}`, {
        token: merchant.accessToken,
        body: { onHand: 5 },
      }),
    (res) => res.status === 200,
  );
  const fresh = await eventually(
    'catalog learns the new stock',
    () => productSeen(product.id),
    (p) => p.available === 5,
  );
  assert.ok(Date.parse(fresh.availableAsOf!) > learntAt, 'newer availability, newer time');
});
