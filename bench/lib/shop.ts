/**
 * Shop set-up for benchmarks, through the gateway's public API: a merchant's products with stock,
 * and logged-in customers.
 */
import { type Credentials, login, registerCustomers } from './identity.ts';

/** A shipping address good for every checkout. */
export const BENCH_ADDRESS = {
  name: 'Bench Shopper',
  line1: '1 Loopback Lane',
  city: 'Localhost',
  postalCode: '12345',
  country: 'DE',
};

async function send(
  gatewayUrl: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the status and text say enough.
  }
  return { status: res.status, json, text };
}

/**
 * Publishes `count` products as the merchant whose token is given (`POST /api/products`) and sets
 * each one's stock to `onHand` (`PUT /api/inventory/:id`); answers their ids. Throws on any other
 * answer than 201 and 200.
 */
export async function stockedProducts(
  gatewayUrl: string,
  merchantToken: string,
  { count, onHand, price = 1000 }: { count: number; onHand: number; price?: number },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await send(gatewayUrl, 'POST', '/api/products', merchantToken, {
      name: `Bench product ${i} ${Math.random().toString(36).slice(2, 7)}`,
      price,
      category: 'kitchen',
    });
    if (created.status !== 201 || typeof created.json.id !== 'string') {
      throw new Error(`POST /api/products answered ${created.status}: ${created.text.slice(0, 300)}`);
    }
    const id = created.json.id;
    const stock = await send(gatewayUrl, 'PUT', `/api/inventory/${id}`, merchantToken, { onHand });
    if (stock.status !== 200) {
      throw new Error(`PUT /api/inventory/${id} answered ${stock.status}: ${stock.text.slice(0, 300)}`);
    }
    ids.push(id);
  }
  return ids;
}

/** Registers `count` new customers and logs each in; answers their credentials and access tokens. */
export async function loggedInCustomers(
  gatewayUrl: string,
  count: number,
): Promise<(Credentials & { accessToken: string })[]> {
  const accounts = await registerCustomers(gatewayUrl, count);
  const out: (Credentials & { accessToken: string })[] = [];
  for (const account of accounts) {
    out.push({ ...account, accessToken: (await login(gatewayUrl, account)).accessToken });
  }
  return out;
}
