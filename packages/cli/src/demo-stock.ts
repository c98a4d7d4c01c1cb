import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootstrapAccount } from './users.ts';

/** Marker, in the data folder, that the demo stock was set once (a sold-out product stays sold out). */
const DEMO_STOCK_MARKER = 'demo-stock.done';

/** The demo stock of the `index`-th demo product: between 5 and 96, varied but repeatable. */
export function demoStockLevel(index: number): number {
  return 5 + ((index * 37 + 11) % 92);
}

/**
 * Gives the demo merchant's products their first stock, through the public API as that merchant
 * (so it is an ordinary adjustment in inventory's ledger). Runs once per data folder; products whose
 * stock is already set are left alone, so an interrupted run finishes without doubling anything.
 */
export async function seedDemoStock(options: {
  dataDir: string;
  gatewayUrl: string;
  merchant: BootstrapAccount;
  merchantId: string;
}): Promise<number> {
  const marker = join(options.dataDir, DEMO_STOCK_MARKER);
  if (existsSync(marker)) return 0;
  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${options.gatewayUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok)
      throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const { accessToken } = await api<{ accessToken: string }>('/api/auth/login', {
    method: 'POST',
    body: JSON.stringify(options.merchant),
  });
  const auth = { authorization: `Bearer ${accessToken}` };
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query = `merchantId=${encodeURIComponent(options.merchantId)}&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const page: { items: { id: string }[]; nextCursor: string | null } = await api(`/api/products?${query}`);
    ids.push(...page.items.map((p) => p.id));
    cursor = page.nextCursor;
  } while (cursor);
  let set = 0;
  for (const [index, id] of ids.entries()) {
    const stock = await api<{ onHand?: number }>(`/api/inventory/${id}`, { headers: auth });
    if ((stock.onHand ?? 0) > 0) continue;
    await api(`/api/inventory/${id}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ onHand: demoStockLevel(index) }),
    });
    set++;
  }
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return set;
}
