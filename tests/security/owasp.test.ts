/**
 * The OWASP API Security Top 10 (2023) as tests, against the real processes: object- and
 * function-level authorization, mass assignment, token attacks, refresh-token reuse, security
 * headers and error hygiene, SSRF. One system is shared; tests run in order.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { resetPassword } from '../../packages/cli/src/admin.ts';
import type { System } from '../../packages/cli/src/system.ts';
import { setChaos, startTestSystem } from '../system/support.ts';
import { type Account, api, login, segment, signUp, signWithIdentityKey } from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let admin: Account;
let a: Account;
let b: Account;
let m1: Account;
let m2: Account;

before(async () => {
  handle = await startTestSystem({ replicas: { catalog: 1 } });
  system = handle.system;
  const users = system.bootstrapUsers!.users;
  admin = await login(system, users.admin.email, users.admin.password);
  [a, b, m1, m2] = await Promise.all([
    signUp(system, 'alice', 'customer'),
    signUp(system, 'bob', 'customer'),
    signUp(system, 'mona', 'merchant'),
    signUp(system, 'max', 'merchant'),
  ]);
});
after(() => handle?.stop());

const newProduct = (name: string) => ({ name, description: 'test', price: 1234, category: 'books' });

async function publish(owner: Account, name: string): Promise<string> {
  const res = await api(system, 'POST', '/api/products', {
    token: owner.accessToken,
    body: newProduct(name),
  });
  assert.equal(res.status, 201, res.text);
  return (res.body as { id: string }).id;
}

describe('object level: only the owner and admins reach an object', () => {
  test('changing a product: its merchant and admins succeed; everyone else is told it does not exist', async () => {
    const id = await publish(m1, 'Owned by mona');
    const cells: [string, Account | undefined, number][] = [
      ['anonymous', undefined, 401],
      ['customer a', a, 404],
      ['customer b', b, 404],
      ['other merchant', m2, 404],
      ['owner', m1, 200],
      ['admin', admin, 200],
    ];
    for (const [who, account, expected] of cells) {
      const res = await api(system, 'PATCH', `/api/products/${id}`, {
        token: account?.accessToken,
        body: { price: 999 },
      });
      assert.equal(res.status, expected, `${who}: ${res.text}`);
      if (expected === 404) assert.equal(res.body.code, 'PRODUCT_NOT_FOUND');
    }
  });

  test('deleting a product: only its merchant and admins can; the others leave it untouched', async () => {
    for (const [who, account, expected] of [
      ['anonymous', undefined, 401],
      ['customer', a, 404],
      ['other merchant', m2, 404],
      ['owner', m1, 204],
      ['admin', admin, 204],
    ] as [string, Account | undefined, number][]) {
      const id = await publish(m1, `Delete target for ${who}`);
      const res = await api(system, 'DELETE', `/api/products/${id}`, { token: account?.accessToken });
      assert.equal(res.status, expected, `${who}: ${res.text}`);
      const visible = await api(system, 'GET', `/api/products/${id}`);
      assert.equal(
        visible.status,
        expected === 204 ? 404 : 200,
        `${who}: product visibility after the attempt`,
      );
    }
  });

  test('a hidden product is 404 to everyone but its merchant and admins', async () => {
    const id = await publish(m1, 'Hidden one');
    assert.equal((await api(system, 'DELETE', `/api/products/${id}`, { token: m1.accessToken })).status, 204);
    for (const [who, account, expected] of [
      ['anonymous', undefined, 404],
      ['customer', a, 404],
      ['other merchant', m2, 404],
      ['owner', m1, 200],
      ['admin', admin, 200],
    ] as [string, Account | undefined, number][]) {
      const res = await api(system, 'GET', `/api/products/${id}`, { token: account?.accessToken });
      assert.equal(res.status, expected, who);
    }
  });

  test("straight to the catalog with a valid service token but another merchant's identity: still 404", async () => {
    const id = await publish(m1, 'Direct call target');
    const exchange = await fetch(`${identityUrl()}/internal/service-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.credentials.gateway}`, 'content-type': 'application/json' },
      body: JSON.stringify({ audience: 'catalog' }),
    });
    assert.equal(exchange.status, 200);
    const { token } = (await exchange.json()) as { token: string };
    const catalog = system.supervisor.info('catalog-1').url!;
    const res = await fetch(`${catalog}/api/products/${id}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${m2.accessToken}`,
        'bazaar-service-token': token,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ price: 1 }),
    });
    assert.equal(res.status, 404);
    const unchanged = await api(system, 'GET', `/api/products/${id}`);
    assert.equal((unchanged.body as { price: number }).price, 1234);
  });

  test('straight to identity with a valid service token: a customer or merchant still cannot manage users', async () => {
    const exchange = await fetch(`${identityUrl()}/internal/service-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.credentials.gateway}`, 'content-type': 'application/json' },
      body: JSON.stringify({ audience: 'identity' }),
    });
    assert.equal(exchange.status, 200);
    const { token } = (await exchange.json()) as { token: string };
    for (const account of [a, m1]) {
      const headers = { authorization: `Bearer ${account.accessToken}`, 'bazaar-service-token': token };
      const list = await fetch(`${identityUrl()}/api/admin/users`, { headers });
      assert.equal(list.status, 403, `${account.role} listing users`);
      const change = await fetch(`${identityUrl()}/api/admin/users/${b.id}`, {
        method: 'PATCH',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'admin' }),
      });
      assert.equal(change.status, 403, `${account.role} promoting another user`);
    }
    const me = await api(system, 'GET', '/api/auth/me', { token: b.accessToken });
    assert.equal((me.body as { role: string }).role, 'customer', 'nobody was promoted');
  });

  test("an admin's user management is out of reach of other users' ids", async () => {
    const res = await api(system, 'PATCH', `/api/admin/users/${b.id}`, {
      token: a.accessToken,
      body: { disabled: true },
    });
    assert.equal(res.status, 403);
    assert.equal((await api(system, 'GET', '/api/auth/me', { token: b.accessToken })).status, 200);
  });
});

describe('function level: roles decide which routes answer', () => {
  test('a customer on merchant and admin routes gets 403; a merchant on admin routes gets 403', async () => {
    assert.equal(
      (await api(system, 'POST', '/api/products', { token: a.accessToken, body: newProduct('x') })).status,
      403,
    );
    for (const account of [a, m1]) {
      assert.equal(
        (await api(system, 'GET', '/api/admin/users', { token: account.accessToken })).status,
        403,
      );
      assert.equal(
        (await api(system, 'GET', '/api/ops/services', { token: account.accessToken })).status,
        403,
      );
    }
    assert.equal((await api(system, 'GET', '/api/admin/users', { token: admin.accessToken })).status, 200);
    assert.equal((await api(system, 'GET', '/api/ops/services', { token: admin.accessToken })).status, 200);
  });

  test('anonymous callers get 401 with a Bearer challenge on every protected route', async () => {
    for (const [method, path] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/admin/users'],
      ['GET', '/api/ops/services'],
      ['POST', '/api/products'],
    ]) {
      const res = await api(system, method!, path!, method === 'POST' ? { body: newProduct('x') } : {});
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  });
});

describe('mass assignment: extra fields are refused, never obeyed', () => {
  test('registering as admin, or with unknown fields, creates nobody', async () => {
    const email = `mallory-${Date.now()}@example.test`;
    const asAdmin = await api(system, 'POST', '/api/auth/register', {
      body: { email, password: 'pw-mallory-correct', name: 'Mallory', role: 'admin' },
    });
    assert.equal(asAdmin.status, 400);
    const extra = await api(system, 'POST', '/api/auth/register', {
      body: { email, password: 'pw-mallory-correct', name: 'Mallory', isAdmin: true },
    });
    assert.equal(extra.status, 400);
    const tried = await api(system, 'POST', '/api/auth/login', {
      body: { email, password: 'pw-mallory-correct' },
    });
    assert.equal(tried.status, 401);
  });

  test('a product cannot be created for, or moved to, another merchant', async () => {
    const created = await api(system, 'POST', '/api/products', {
      token: m1.accessToken,
      body: { ...newProduct('Sneaky'), merchantId: m2.id },
    });
    assert.equal(created.status, 400);
    const mine = await api(system, 'GET', `/api/products?merchantId=${m2.id}`);
    assert.ok(!(mine.body as { items: { name: string }[] }).items.some((p) => p.name === 'Sneaky'));
    const id = await publish(m1, 'Stays with mona');
    const moved = await api(system, 'PATCH', `/api/products/${id}`, {
      token: m1.accessToken,
      body: { merchantId: m2.id },
    });
    assert.equal(moved.status, 400);
    const still = await api(system, 'GET', `/api/products/${id}`);
    assert.equal((still.body as { merchantId: string }).merchantId, m1.id);
  });
});

describe('tokens: forged, altered or misused tokens are refused', () => {
  const claims = () => ({
    iss: 'bazaar-identity',
    aud: 'bazaar',
    sub: admin.id,
    role: 'admin',
    sid: 'x',
    jti: 'y',
    typ: 'access',
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 600,
  });

  async function refused(token: string, what: string) {
    for (const path of ['/api/admin/users', '/api/auth/me']) {
      const res = await api(system, 'GET', path, { token });
      assert.equal(res.status, 401, `${what} at ${path}: ${res.text}`);
    }
  }

  test('alg none is refused', async () => {
    await refused(`${segment({ alg: 'none', typ: 'at+jwt' })}.${segment(claims())}.`, 'alg none');
  });

  test('HS256 signed with the public key is refused', async () => {
    const jwks = (await api(system, 'GET', '/.well-known/jwks.json')).body as {
      keys: { kid: string; x: string }[];
    };
    const key = jwks.keys[0]!;
    const { createHmac } = await import('node:crypto');
    const head = `${segment({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${segment(claims())}`;
    const sig = createHmac('sha256', Buffer.from(key.x, 'base64url')).update(head).digest('base64url');
    await refused(`${head}.${sig}`, 'HS256 with the public key');
  });

  test('a tampered payload is refused', async () => {
    const [head, body, sig] = a.accessToken.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    payload.role = 'admin';
    await refused(`${head}.${segment(payload)}.${sig}`, 'tampered role');
  });

  test('a refresh token and a service token are not access tokens', async () => {
    await refused(a.refreshToken, 'refresh token');
    const exchange = await fetch(`${identityUrl()}/internal/service-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.credentials.catalog}`, 'content-type': 'application/json' },
      body: JSON.stringify({ audience: 'gateway' }),
    });
    const { token } = (await exchange.json()) as { token: string };
    await refused(token, 'service token');
  });

  test('a service token for catalog is refused by identity (wrong audience)', async () => {
    const exchange = await fetch(`${identityUrl()}/internal/service-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.credentials.gateway}`, 'content-type': 'application/json' },
      body: JSON.stringify({ audience: 'catalog' }),
    });
    const { token } = (await exchange.json()) as { token: string };
    const res = await fetch(`${identityUrl()}/internal/revocations`, {
      headers: { 'bazaar-service-token': token },
    });
    assert.ok(res.status === 401 || res.status === 403, `answered ${res.status}`);
  });

  test('signed with the real key but with a wrong iss, aud, typ, or outside its lifetime: refused everywhere', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = { ...claims(), sub: admin.id, sid: sidOf(admin.accessToken) };
    const control = await signWithIdentityKey(system, good);
    assert.equal(
      (await api(system, 'GET', '/api/admin/users', { token: control })).status,
      200,
      'the forging works',
    );
    const cases: [string, string][] = [
      ['wrong iss', await signWithIdentityKey(system, { ...good, iss: 'someone-else' })],
      ['wrong aud', await signWithIdentityKey(system, { ...good, aud: 'catalog' })],
      ['expired', await signWithIdentityKey(system, { ...good, iat: now - 1200, exp: now - 600 })],
      ['nbf in the future', await signWithIdentityKey(system, { ...good, nbf: now + 600 })],
      ['service typ', await signWithIdentityKey(system, good, { typ: 'st+jwt' })],
    ];
    const id = await publish(m1, 'Forgery target');
    for (const [what, token] of cases) {
      await refused(token, what);
      const patch = await api(system, 'PATCH', `/api/products/${id}`, { token, body: { price: 1 } });
      assert.equal(patch.status, 401, `${what} at the catalog`);
    }
  });

  test('1000 tokens with made-up kids are all refused, and the keys are fetched at most once per cooldown', async () => {
    const gateway = system.supervisor.info('gateway-1').url!;
    const fetches = async () => {
      const text = await (await fetch(`${gateway}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('bazaar_auth_jwks_fetches_total'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };
    const before = await fetches();
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const kid = Math.random().toString(36).slice(2);
          const token = `${segment({ alg: 'EdDSA', typ: 'at+jwt', kid })}.${segment(claims())}.${Buffer.alloc(64).toString('base64url')}`;
          return (await api(system, 'GET', '/api/auth/me', { token })).status;
        }),
      );
      for (const s of results) statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    assert.deepEqual([...statuses.entries()], [[401, 1000]]);
    assert.ok((await fetches()) - before <= 2, `JWKS fetched ${(await fetches()) - before} times`);
  });
});

describe('refresh tokens', () => {
  test('two refreshes racing with one token get the same new pair', async () => {
    const fresh = await signUp(system, 'racer', 'customer');
    const [r1, r2] = await Promise.all([
      api(system, 'POST', '/api/auth/refresh', { body: { refreshToken: fresh.refreshToken } }),
      api(system, 'POST', '/api/auth/refresh', { body: { refreshToken: fresh.refreshToken } }),
    ]);
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    assert.equal(r1.body.refreshToken, r2.body.refreshToken);
  });

  test('reuse of a spent refresh token after the grace revokes the whole family', async () => {
    const victim = await signUp(system, 'victim', 'customer');
    const next = await api(system, 'POST', '/api/auth/refresh', {
      body: { refreshToken: victim.refreshToken },
    });
    assert.equal(next.status, 200);
    await new Promise((r) => setTimeout(r, 11_000));
    const replay = await api(system, 'POST', '/api/auth/refresh', {
      body: { refreshToken: victim.refreshToken },
    });
    assert.equal(replay.status, 401);
    const successor = await api(system, 'POST', '/api/auth/refresh', {
      body: { refreshToken: (next.body as { refreshToken: string }).refreshToken },
    });
    assert.equal(successor.status, 401, 'the family is revoked');
  });
});

describe('headers and hygiene', () => {
  test('every answer carries the security headers; authenticated ones are not stored', async () => {
    const answers = [
      await api(system, 'GET', '/api/products?limit=1'),
      await api(system, 'GET', '/api/nothing'),
      await api(system, 'GET', '/api/products?limit=abc'),
      await api(system, 'GET', '/api/auth/me'),
      await api(system, 'GET', '/api/auth/me', { token: a.accessToken }),
      await api(system, 'GET', '/.well-known/jwks.json'),
    ];
    for (const res of answers) {
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-powered-by'), null);
      assert.ok(res.headers.get('x-request-id'));
    }
    assert.match(answers[4]!.headers.get('cache-control') ?? '', /no-store/);
  });

  test('no error body reveals a stack trace, SQL or an internal address, forced 500s included', async () => {
    const catalog = system.supervisor.info('catalog-1');
    await setChaos(catalog.url!, system.credentials.catalog!, { errorRate: 1 });
    const bodies: string[] = [];
    try {
      bodies.push((await api(system, 'GET', '/api/products?limit=1')).text);
    } finally {
      await setChaos(catalog.url!, system.credentials.catalog!, {});
    }
    bodies.push((await api(system, 'GET', '/api/products/not-a-uuid')).text);
    bodies.push((await api(system, 'POST', '/api/auth/login', { body: { email: 'x' } })).text);
    bodies.push((await api(system, 'GET', `/api/products?cursor=${'A'.repeat(40)}`)).text);
    for (const body of bodies) {
      assert.doesNotMatch(
        body,
        /\bat [\w.<>]+ \(|\.ts:\d+|SELECT |INSERT |syntax error|127\.0\.0\.1:\d+|ECONN/,
      );
    }
  });
});

describe('SSRF: no server fetches a URL a user supplied', () => {
  test('an image URL pointing at a loopback canary is stored as text and never fetched', async () => {
    let hits = 0;
    const canary: Server = createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    const port = (canary.address() as AddressInfo).port;
    try {
      const imageUrl = `https://127.0.0.1:${port}/steal.png`;
      const created = await api(system, 'POST', '/api/products', {
        token: m1.accessToken,
        body: { ...newProduct('Canary'), imageUrl },
      });
      assert.equal(created.status, 201, created.text);
      const id = (created.body as { id: string }).id;
      assert.equal(
        ((await api(system, 'GET', `/api/products/${id}`)).body as { imageUrl: string }).imageUrl,
        imageUrl,
      );
      await api(system, 'GET', '/api/products?q=canary');
      await api(system, 'PATCH', `/api/products/${id}`, {
        token: m1.accessToken,
        body: { imageUrl: `https://127.0.0.1:${port}/again.png` },
      });
      const plain = await api(system, 'POST', '/api/products', {
        token: m1.accessToken,
        body: { ...newProduct('Plain http'), imageUrl: `http://127.0.0.1:${port}/x.png` },
      });
      assert.equal(plain.status, 400, 'only https URLs or local paths are accepted');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(hits, 0);
    } finally {
      canary.close();
    }
  });
});

function identityUrl(): string {
  return system.supervisor.info('identity-1').url!;
}

describe('brute force: login limits per account and per address', () => {
  /** A login from a chosen loopback source address. */
  async function loginFrom(
    address: string,
    email: string,
    password: string,
  ): Promise<{ status: number; retryAfter: string | null }> {
    const dispatcher = dispatchers.get(address) ?? new Agent({ localAddress: address, connections: 4 });
    dispatchers.set(address, dispatcher);
    const res = await request(`${system.gatewayUrl}/api/auth/login`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    await res.body.dump();
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : null };
  }
  const dispatchers = new Map<string, Agent>();
  after(() => Promise.all([...dispatchers.values()].map((d) => d.close())));

  test('200 wrong passwords against one account: 429 after 5 failures, while other users still log in', async () => {
    const victim = await signUp(system, 'victim-bf', 'customer');
    const bystander = await signUp(system, 'bystander', 'customer');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 200; i++) {
      const res = await loginFrom('127.0.0.2', victim.email, `wrong-password-${i}`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.retryAfter;
    }
    assert.equal(statuses.filter((s) => s === 401).length, 5, 'five failures reach identity');
    assert.equal(statuses.filter((s) => s === 429).length, 195);
    assert.ok(Number(retryAfter) > 0, 'Retry-After is set');
    const other = await loginFrom('127.0.0.3', bystander.email, 'pw-bystander-correct-horse');
    assert.equal(other.status, 200, 'another user, from another address, still logs in');
  });

  test('credential stuffing across 50 accounts from one address: 429 after 20 failures; others unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      statuses.push((await loginFrom('127.0.0.4', `stuffed-${i}@example.test`, 'Password123!')).status);
    }
    assert.deepEqual(
      statuses.slice(0, 20).every((s) => s === 401),
      true,
      `first 20: ${statuses.slice(0, 20).join(',')}`,
    );
    assert.ok(
      statuses.slice(20).every((s) => s === 429),
      `after 20: ${statuses.slice(20).join(',')}`,
    );
    const user = await signUp(system, 'unaffected', 'customer');
    assert.equal((await loginFrom('127.0.0.5', user.email, 'pw-unaffected-correct-horse')).status, 200);
  });
});

describe('disabled users', () => {
  test('a disabled user cannot log in, and their tokens stop working within a minute everywhere', async () => {
    const user = await signUp(system, 'to-disable', 'merchant');
    assert.equal(
      (await api(system, 'POST', '/api/products', { token: user.accessToken, body: newProduct('Before') }))
        .status,
      201,
    );
    const patch = await api(system, 'PATCH', `/api/admin/users/${user.id}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    assert.equal(patch.status, 200, patch.text);
    const disabledAt = Date.now();
    const again = await api(system, 'POST', '/api/auth/login', {
      body: { email: user.email, password: 'pw-to-disable-correct-horse' },
    });
    assert.equal(again.status, 401);
    let status = 201;
    while (Date.now() - disabledAt < 60_000) {
      status = (
        await api(system, 'POST', '/api/products', { token: user.accessToken, body: newProduct('After') })
      ).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    assert.equal(status, 401, 'refused within a minute');
  });
});

describe('operator recovery', () => {
  test('bazaar admin reset-password gives the admin a new password and ends their sessions; no other service can', async () => {
    const identity = system.supervisor.info('identity-1').url!;
    const byCatalog = await fetch(`${identity}/internal/accounts/reset-password`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.credentials.catalog}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: admin.email, password: 'catalog-chose-this-one' }),
    });
    assert.equal(byCatalog.status, 403);
    const before = system.bootstrapUsers!.users.admin.password;
    const out: string[] = [];
    const code = await resetPassword({
      dataDir: system.dataDir,
      registryUrl: system.registryUrl,
      write: (t) => void out.push(t),
    });
    assert.equal(code, 0);
    const kept = JSON.parse(await readFile(join(system.dataDir, 'credentials.json'), 'utf8')) as {
      admin: { password: string };
    };
    assert.notEqual(kept.admin.password, before);
    assert.ok(out.join('').includes(kept.admin.password), 'printed once');
    assert.equal(
      (await api(system, 'POST', '/api/auth/login', { body: { email: admin.email, password: before } }))
        .status,
      401,
    );
    assert.equal(
      (
        await api(system, 'POST', '/api/auth/login', {
          body: { email: admin.email, password: kept.admin.password },
        })
      ).status,
      200,
    );
    assert.equal(
      (await fetch(`${identity}/api/auth/me`, { headers: { authorization: `Bearer ${admin.accessToken}` } }))
        .status,
      401,
    );
  });
});

function sidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
}
