/**
 * Signing keys rotate while clients keep calling: no valid token is ever refused, and once a retired
 * key has left the JWKS its tokens are refused everywhere, cached verifications included.
 *
 * Every timing comes from the same settings, shortened here so that a whole key life fits in the
 * run: access tokens live 60 s (service tokens too), verifiers refresh the JWKS every 10 s, so a
 * successor is published 50 s (2 × 10 s + 30 s) before it signs; keys rotate every 90 s and a
 * retired key stays published 120 s (60 s + 60 s) after its successor took over. The first key thus
 * signs until ~90 s after identity started and leaves the JWKS at ~210 s.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { System } from '../../packages/cli/src/system.ts';
import { sampleSum, startTestSystem } from '../system/support.ts';
import { api, apiAt, exchangeServiceToken, login } from './support.ts';

const TTL_S = 60;
const JWKS_REFRESH_MS = 10_000;

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;

before(async () => {
  handle = await startTestSystem({
    replicas: { catalog: 1 },
    env: {
      BAZAAR_KEY_ROTATION_HOURS: String(90 / 3600),
      BAZAAR_ACCESS_TOKEN_TTL_SECONDS: String(TTL_S),
      BAZAAR_JWKS_REFRESH_MS: String(JWKS_REFRESH_MS),
    },
  });
  system = handle.system;
});
after(() => handle?.stop());

const claimsOf = (token: string, part: 0 | 1) =>
  JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString()) as Record<string, unknown>;
const kidOf = (token: string) => claimsOf(token, 0).kid as string;
const secondsLeft = (token: string) => (claimsOf(token, 1).exp as number) - Date.now() / 1000;
const url = (instance: string) => system.supervisor.info(instance).url!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first key's last token that passed the gateway, identity and catalog while valid (set by test 1). */
let firstKeyToken: string | undefined;

test('keys rotate under steady authenticated traffic and no valid token is refused', async () => {
  const { email, password } = system.bootstrapUsers!.users.merchant;
  const first = await login(system, email, password);
  const firstKid = kidOf(first.accessToken);
  const tokens = [first.accessToken];
  const refused: string[] = [];
  const started = Date.now();
  let calls = 0;
  let successorSince: number | undefined;
  let oldKeyAcceptedAfterSuccessor = false;
  // Until 20 s after the successor began signing (the first key's tokens are still valid then), at most 170 s.
  while (Date.now() - started < 170_000 && (!successorSince || Date.now() - successorSince < 20_000)) {
    const fresh = await login(system, email, password);
    tokens.push(fresh.accessToken);
    if (!successorSince && kidOf(fresh.accessToken) !== firstKid) successorSince = Date.now();
    // The oldest token with 20 s left, the one before this, and this one: each must pass the
    // gateway, identity (/api/auth/me) and catalog (the product update).
    const oldest = tokens.find((t) => secondsLeft(t) > 20)!;
    for (const token of new Set([oldest, tokens.at(-2)!, fresh.accessToken])) {
      let passed = 0;
      for (const [method, path, body] of [
        ['GET', '/api/auth/me', undefined],
        ['PATCH', `/api/products/${await someOwnProduct(fresh.accessToken)}`, { price: 1000 + (calls % 50) }],
      ] as [string, string, unknown][]) {
        const res = await api(system, method, path, { token, body });
        calls++;
        if (res.status === 200) passed++;
        else refused.push(`${method} ${path} with kid ${kidOf(token)}: ${res.status} ${res.text}`);
      }
      if (kidOf(token) === firstKid && passed === 2) {
        firstKeyToken = token;
        if (successorSince) oldKeyAcceptedAfterSuccessor = true;
      }
    }
    await sleep(2_000);
  }
  assert.deepEqual(refused.slice(0, 5), [], `${refused.length} of ${calls} calls refused`);
  const kids = new Set(tokens.map(kidOf));
  assert.ok(kids.size >= 2, 'a new key signed during the run');
  assert.ok(
    oldKeyAcceptedAfterSuccessor,
    "the first key's tokens were accepted after its successor took over",
  );
  const jwks = (await api(system, 'GET', '/.well-known/jwks.json')).body as { keys: { kid: string }[] };
  for (const kid of kids)
    assert.ok(
      jwks.keys.some((k) => k.kid === kid),
      `key ${kid} is still published`,
    );
});

test('once the first key has left the JWKS, its token is refused at the gateway, identity and catalog', async (t) => {
  if (!firstKeyToken) return t.skip('the rotation test did not run');
  const kid = kidOf(firstKeyToken);
  const identity = url('identity-1');
  const published = async () =>
    ((await apiAt(identity, 'GET', '/.well-known/jwks.json')).body as { keys: { kid: string }[] }).keys.some(
      (k) => k.kid === kid,
    );
  const until = Date.now() + 200_000;
  while ((await published()) && Date.now() < until) await sleep(2_000);
  assert.equal(await published(), false, `key ${kid} left the JWKS within its retention`);
  // Every verifier has fetched the set since (one refresh period, and a margin for a busy machine).
  await sleep(JWKS_REFRESH_MS + 5_000);

  const { email, password } = system.bootstrapUsers!.users.merchant;
  const valid = (await login(system, email, password)).accessToken;
  const product = await someOwnProduct(valid);
  const unknownKey = (instance: string) =>
    sampleSum(url(instance), 'bazaar_auth_rejections_total', { kind: 'access', reason: 'unknown-key' });
  const catalogPatch = async (token: string) =>
    apiAt(url('catalog-1'), 'PATCH', `/api/products/${product}`, {
      token,
      body: { price: 1234 },
      headers: { 'bazaar-service-token': await exchangeServiceToken(system, 'gateway', 'catalog') },
    });

  // The same calls with a valid token pass: a 401 below is about the token, nothing else.
  assert.equal((await api(system, 'GET', '/api/auth/me', { token: valid })).status, 200);
  assert.equal((await apiAt(identity, 'GET', '/api/auth/me', { token: valid })).status, 200);
  assert.equal((await catalogPatch(valid)).status, 200);

  // The gateway and catalog cached the token while it was valid; they must refuse it because its
  // key is gone (reason unknown-key), not merely because it has expired meanwhile.
  const gatewayBefore = await unknownKey('gateway-1');
  const atGateway = await api(system, 'GET', '/api/auth/me', { token: firstKeyToken });
  assert.equal(atGateway.status, 401, atGateway.text);
  assert.equal(await unknownKey('gateway-1'), gatewayBefore + 1, 'the gateway refused it for its key');

  // Identity checks every token against its key ring, which no longer publishes the key.
  const atIdentity = await apiAt(identity, 'GET', '/api/auth/me', { token: firstKeyToken });
  assert.equal(atIdentity.status, 401, atIdentity.text);

  const catalogBefore = await unknownKey('catalog-1');
  const atCatalog = await catalogPatch(firstKeyToken);
  assert.equal(atCatalog.status, 401, atCatalog.text);
  assert.equal(await unknownKey('catalog-1'), catalogBefore + 1, 'catalog refused it for its key');
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
