import assert from 'node:assert/strict';
import type { Order, Product } from '@bazaar/contracts';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api } from '../security/support.ts';

/** A shipping address good for every checkout. */
export const ADDRESS = {
  name: 'Ada Shopper',
  line1: '1 Loopback Lane',
  city: 'Localhost',
  postalCode: '12345',
  country: 'DE',
};

/** Publishes a product as `merchant` and gives it `stock` units; answers the product. */
export async function stockedProduct(
  system: System,
  merchant: Account,
  { price = 1000, stock = 10, name = 'Test product' } = {},
): Promise<Product> {
  const created = await api(system, 'POST', '/api/products', {
    token: merchant.accessToken,
    body: { name: `${name} ${Math.random().toString(36).slice(2, 7)}`, price, category: 'kitchen' },
  });
  assert.equal(created.status, 201, created.text);
  const product = created.body as unknown as Product;
  await setStock(system, merchant, product.id, stock);
  return product;
}

/** Sets a product's stock as its merchant (or an admin). */
export async function setStock(system: System, owner: Account, productId: string, onHand: number) {
  const res = await api(system, 'PUT', `/api/inventory/${productId}`, {
    token: owner.accessToken,
    body: { onHand },
  });
  assert.equal(res.status, 200, res.text);
}

/** Sets one cart line of `customer`. */
export async function putInCart(system: System, customer: Account, productId: string, quantity: number) {
  const res = await api(system, 'PUT', `/api/cart/items/${productId}`, {
    token: customer.accessToken,
    body: { quantity },
  });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** `POST /api/orders` with an idempotency key (a fresh one unless given). */
export function checkout(
  system: System,
  customer: Account,
  { key = crypto.randomUUID(), paymentToken = 'tok_visa', expectedTotal }: CheckoutOptions = {},
) {
  return api(system, 'POST', '/api/orders', {
    token: customer.accessToken,
    headers: { 'idempotency-key': key },
    body: {
      paymentToken,
      shippingAddress: ADDRESS,
      ...(expectedTotal === undefined ? {} : { expectedTotal }),
    },
  });
}

export interface CheckoutOptions {
  key?: string;
  paymentToken?: string;
  expectedTotal?: number;
}

/** Polls an order until `settled` holds (by default: no longer PENDING), within `withinMs`; answers it. */
export async function settledOrder(
  system: System,
  who: Account,
  orderId: string,
  withinMs = 30_000,
  settled: (order: Order) => boolean = (order) => order.status !== 'PENDING',
) {
  const until = Date.now() + withinMs;
  for (;;) {
    const res = await api(system, 'GET', `/api/orders/${orderId}`, { token: who.accessToken });
    if (res.status === 200) {
      const order = res.body as unknown as Order;
      if (settled(order)) return order;
    }
    if (Date.now() > until)
      throw new Error(`order ${orderId} not settled within ${withinMs} ms: ${res.text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A product's stock as its owner sees it. */
export async function stockOf(system: System, owner: Account, productId: string) {
  const res = await api(system, 'GET', `/api/inventory/${productId}`, { token: owner.accessToken });
  assert.equal(res.status, 200, res.text);
  return res.body as { available: number; onHand: number; reserved: number };
}

/** The payments of one order, as its customer sees them. */
export async function paymentsOf(system: System, customer: Account, orderId: string) {
  const res = await api(system, 'GET', `/api/payments?orderId=${orderId}`, { token: customer.accessToken });
  assert.equal(res.status, 200, res.text);
  return (res.body as { items: { status: string; amount: number; declineCode?: string }[] }).items;
}
