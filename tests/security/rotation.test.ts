/**
 * Signing keys rotate while clients keep calling: no valid token is ever refused. Identity rotates
 * every 3 minutes here (the shortest period it accepts); the successor key is published 150 s
 * before it signs, so every verifier (JWKS refreshed at least every 60 s) knows it in time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { System } from '../../packages/cli/src/system.ts';
import { startTestSystem } from '../system/support.ts';
import { api, login } from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;

before(async () => {
  handle = await startTestSystem({ replicas: { catalog: 1 }, env: { BAZAAR_KEY_ROTATION_HOURS: '0.05' } });
  system = handle.system;
});
after(() => handle?.stop());

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

test('keys rotate under steady authenticated traffic and no valid token is refused', async () => {
  const { email, password } = system.bootstrapUsers!.users.merchant;
  const first = await login(system, email, password);
  const tokens = [first.accessToken];
  const refused: string[] = [];
  const started = Date.now();
  let calls = 0;
  // A little longer than one rotation period: the first key signs for 180 s, then its successor.
  while (Date.now() - started < 200_000) {
    const fresh = await login(system, email, password);
    tokens.push(fresh.accessToken);
    // Every token issued so far is still valid (10 min): each must pass the gateway, identity and catalog.
    for (const token of [tokens[0]!, tokens.at(-2)!, fresh.accessToken]) {
      for (const [method, path, body] of [
        ['GET', '/api/auth/me', undefined],
        ['PATCH', `/api/products/${await someOwnProduct(fresh.accessToken)}`, { price: 1000 + (calls % 50) }],
      ] as [string, string, unknown][]) {
        const res = await api(system, method, path, { token, body });
        calls++;
        if (res.status !== 200)
          refused.push(`${method} ${path} with kid ${kidOf(token)}: ${res.status} ${res.text}`);
      }
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
  assert.deepEqual(refused.slice(0, 5), [], `${refused.length} of ${calls} calls refused`);
  const kids = new Set(tokens.map(kidOf));
  assert.ok(kids.size >= 2, 'a new key signed during the run');
  const jwks = (await api(system, 'GET', '/.well-known/jwks.json')).body as { keys: { kid: string }[] };
  for (const kid of kids)
    assert.ok(
      jwks.keys.some((k) => k.kid === kid),
      `key ${kid} is still published`,
    );
});

let ownProduct: string | undefined;
async function someOwnProduct(token: string): Promise<string> {
  if (ownProduct) return ownProduct;
  const res = await api(system, 'POST', '/api/products', {
    token,
    body: { name: 'Rotation probe', price: 1000, category: 'books' },
  });
  assert.equal(res.status, 201, res.text);
  ownProduct = (res.body as { id: string }).id;
  return ownProduct;
}
