import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp, createMetrics, ServiceClient } from '@bazaar/kit';
import { StaticInstances } from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import { Agent } from 'undici';
import gateway from '../src/service.ts';

/** What the fake upstream (identity and catalog in one) saw. */
interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

const RIGHT_PASSWORD = 'the-right-password';
let seen: Seen[] = [];
let upstream: Server;
let address: string;
let privateKey: CryptoKey;
let jwk: Record<string, unknown>;
const dispatcher = new Agent();

before(async () => {
  const pair = await generateKeyPair('EdDSA', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const json = (status: number, value: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type, 'x-powered-by': 'Express', server: 'upstream/1.0' });
        res.end(JSON.stringify(value));
      };
      if (path === '/.well-known/jwks.json') return json(200, { keys: [jwk] });
      seen.push({ method: req.method!, path, headers: req.headers });
      if (path === '/api/auth/login') {
        const { password } = JSON.parse(body) as { password: string };
        return password === RIGHT_PASSWORD
          ? json(200, { accessToken: 'a', refreshToken: 'r', tokenType: 'Bearer', expiresIn: 600 })
          : json(401, { code: 'INVALID_CREDENTIALS', detail: 'no' }, 'application/problem+json');
      }
      json(200, { items: [], nextCursor: null });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
after(async () => {
  upstream.close();
  await dispatcher.close();
});

/** The gateway with identity and catalog both served by the fake upstream. */
async function gatewayApp(
  env: Record<string, string> = {},
  log: pino.Logger = pino({ level: 'silent' }),
): Promise<FastifyInstance> {
  const source = new StaticInstances();
  source.set('identity', [address]);
  source.set('catalog', [address]);
  const metrics = createMetrics('gateway');
  const clients = new Map<string, ServiceClient>();
  const { app } = await buildApp(gateway, {
    env: { BAZAAR_LOG_LEVEL: 'silent', ...env },
    log,
    metrics,
    client: (target) => {
      let c = clients.get(target);
      if (!c) {
        c = new ServiceClient({ target, source, dispatcher, metrics, log });
        clients.set(target, c);
      }
      return c;
    },
  });
  return app;
}

const now = () => Math.floor(Date.now() / 1000);
function token(role: 'customer' | 'merchant' | 'admin', over: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({
    iss: 'bazaar-identity',
    aud: 'bazaar',
    sub: randomUUID(),
    role,
    sid: randomUUID(),
    jti: randomUUID(),
    typ: 'access',
    iat: now(),
    exp: now() + 600,
    ...over,
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })
    .sign(privateKey);
}
const bearer = async (role: 'customer' | 'merchant' | 'admin', over?: Record<string, unknown>) => ({
  authorization: `Bearer ${await token(role, over)}`,
});

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal((res.json() as { code: string }).code, code);
}

/** `Retry-After` in whole seconds, within what the bucket's refill allows (time passes while testing). */
function assertRetryAfter(res: { headers: Record<string, unknown> }, min: number, max: number) {
  const seconds = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(seconds) && seconds >= min && seconds <= max, `Retry-After ${seconds}`);
}

describe('tokens and auth needs at the gateway', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await gatewayApp();
  });
  after(() => app.close());

  test('a bad token is refused with 401 and WWW-Authenticate before anything is forwarded', async () => {
    seen = [];
    for (const authorization of [
      'Bearer garbage',
      `Bearer ${await token('customer', { exp: now() - 60 })}`,
      `Bearer ${await token('customer', { aud: 'catalog' })}`,
    ]) {
      const res = await app.inject({ url: '/api/products', headers: { authorization } });
      assertProblem(res, 401, 'UNAUTHORIZED');
      assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
    }
    assert.deepEqual(seen, []);
  });

  test('a public route is forwarded with or without a good token; the token goes along unchanged', async () => {
    seen = [];
    assert.equal((await app.inject({ url: '/api/products' })).statusCode, 200);
    const headers = { ...(await bearer('customer')), 'bazaar-service-token': 'forged' };
    assert.equal((await app.inject({ url: '/api/products?q=x', headers })).statusCode, 200);
    assert.equal(seen.length, 2);
    assert.equal(seen[1]!.headers.authorization, headers.authorization);
    assert.equal(
      seen[1]!.headers['bazaar-service-token'],
      undefined,
      "a client's service token never passes",
    );
  });

  test('a customer on an admin route is 403 and nothing is forwarded; an admin gets through', async () => {
    seen = [];
    assertProblem(
      await app.inject({ url: '/api/admin/users', headers: await bearer('customer') }),
      403,
      'FORBIDDEN',
    );
    assertProblem(
      await app.inject({ url: '/api/admin/users', headers: await bearer('merchant') }),
      403,
      'FORBIDDEN',
    );
    assert.deepEqual(seen, []);
    assert.equal(
      (await app.inject({ url: '/api/admin/users', headers: await bearer('admin') })).statusCode,
      200,
    );
    assert.equal(seen.length, 1);
  });

  test('routes that need a user answer 401 with WWW-Authenticate: Bearer to anonymous requests', async () => {
    seen = [];
    for (const url of ['/api/auth/me', '/api/admin/users']) {
      const res = await app.inject({ url });
      assertProblem(res, 401, 'UNAUTHORIZED');
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
    assert.deepEqual(seen, []);
    assert.equal(
      (await app.inject({ url: '/api/auth/me', headers: await bearer('customer') })).statusCode,
      200,
    );
  });

  test('/api/ops/* is for admins only', async () => {
    assertProblem(await app.inject({ url: '/api/ops/services' }), 401, 'UNAUTHORIZED');
    assertProblem(
      await app.inject({ url: '/api/ops/services', headers: await bearer('merchant') }),
      403,
      'FORBIDDEN',
    );
    const res = await app.inject({ url: '/api/ops/services', headers: await bearer('admin') });
    assert.equal(res.statusCode, 200);
  });

  test("identity's JWKS is served at /.well-known/jwks.json; any other /.well-known path is a 404 problem", async () => {
    const jwks = await app.inject({ url: '/.well-known/jwks.json' });
    assert.equal(jwks.statusCode, 200);
    assert.deepEqual(
      (jwks.json() as { keys: { kid: string }[] }).keys.map((k) => k.kid),
      ['k1'],
    );
    assertProblem(await app.inject({ url: '/.well-known/openid-configuration' }), 404, 'ROUTE_NOT_FOUND');
    assertProblem(await app.inject({ url: '/nothing/here' }), 404, 'ROUTE_NOT_FOUND');
  });

  test('security headers: nosniff and frame-ancestors everywhere, no-store on authenticated answers, no x-powered-by', async () => {
    const anonymous = await app.inject({ url: '/api/products' });
    const signedIn = await app.inject({ url: '/api/products', headers: await bearer('customer') });
    const refused = await app.inject({ url: '/api/products', headers: { authorization: 'Bearer junk' } });
    for (const res of [anonymous, signedIn, refused]) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(res.headers['x-powered-by'], undefined);
      assert.equal(res.headers.server, undefined);
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS without TLS');
    }
    assert.equal(anonymous.headers['cache-control'], undefined);
    assert.equal(signedIn.headers['cache-control'], 'no-store');
    assert.equal(refused.headers['cache-control'], 'no-store');
    const page = await app.inject({ url: '/' });
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
  });
});

describe('rate limits', () => {
  test('per client address: past the burst, 429 RATE_LIMITED with Retry-After; other addresses go on', async () => {
    const app = await gatewayApp({ BAZAAR_RATE_LIMIT_PER_IP: '3/1m' });
    try {
      const from = (remoteAddress: string) => app.inject({ url: '/api/products', remoteAddress });
      for (let i = 0; i < 3; i++) assert.equal((await from('127.0.0.21')).statusCode, 200);
      const res = await from('127.0.0.21');
      assertProblem(res, 429, 'RATE_LIMITED');
      assertRetryAfter(res, 19, 20); // one token of 3 per minute comes back in 20 s
      assert.equal((await from('127.0.0.22')).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('per user: one user past their limit is refused, another user from the same address is not', async () => {
    const app = await gatewayApp({ BAZAAR_RATE_LIMIT_PER_USER: '2/1m' });
    try {
      const alice = await bearer('customer');
      const bob = await bearer('customer');
      for (let i = 0; i < 2; i++) {
        assert.equal((await app.inject({ url: '/api/products', headers: alice })).statusCode, 200);
      }
      const res = await app.inject({ url: '/api/products', headers: alice });
      assertProblem(res, 429, 'RATE_LIMITED');
      assert.ok(Number(res.headers['retry-after']) >= 1);
      assert.equal((await app.inject({ url: '/api/products', headers: bob })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('behind a trusted proxy, the address limited is the one X-Forwarded-For names', async () => {
    const app = await gatewayApp({ BAZAAR_RATE_LIMIT_PER_IP: '1/1m', BAZAAR_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      const via = (client: string, remoteAddress = '127.0.0.1') =>
        app.inject({ url: '/api/products', remoteAddress, headers: { 'x-forwarded-for': client } });
      assert.equal((await via('203.0.113.1')).statusCode, 200);
      assert.equal((await via('203.0.113.1')).statusCode, 429);
      assert.equal((await via('203.0.113.2')).statusCode, 200);
      // Not from the trusted proxy: X-Forwarded-For is ignored, the socket address is limited.
      assert.equal((await via('203.0.113.3', '127.0.0.9')).statusCode, 200);
      assert.equal((await via('203.0.113.4', '127.0.0.9')).statusCode, 429);
      const forwarded = seen.at(-1)!;
      assert.equal(forwarded.headers['x-forwarded-for'], '127.0.0.9');
    } finally {
      await app.close();
    }
  });

  const login = (app: FastifyInstance, email: string, password: string, remoteAddress: string) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email, password }),
    });

  test('5 failed logins of one account: the next attempts are 429 with Retry-After, even from other addresses', async () => {
    const app = await gatewayApp();
    try {
      seen = [];
      for (let i = 0; i < 5; i++) {
        assert.equal((await login(app, 'victim@example.com', `guess-${i}`, `127.0.1.${i}`)).statusCode, 401);
      }
      for (const email of ['victim@example.com', ' Victim@Example.COM']) {
        const res = await login(app, email, RIGHT_PASSWORD, '127.0.1.99');
        assertProblem(res, 429, 'RATE_LIMITED');
        assertRetryAfter(res, 175, 180); // 5 per 15 minutes: one comes back every 3 minutes
      }
      assert.equal(seen.length, 5, 'refused attempts never reach identity');
      assert.equal((await login(app, 'someone@example.com', RIGHT_PASSWORD, '127.0.1.0')).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('50 parallel guesses at one account: only 5 reach identity', async () => {
    const app = await gatewayApp();
    try {
      seen = [];
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => login(app, 'target@example.com', `guess-${i}`, `127.0.2.${i}`)),
      );
      assert.equal(answers.filter((r) => r.statusCode === 401).length, 5);
      assert.equal(answers.filter((r) => r.statusCode === 429).length, 45);
      assert.equal(seen.length, 5);
    } finally {
      await app.close();
    }
  });

  test('20 failed logins from one address across accounts stop that address; others still log in', async () => {
    const app = await gatewayApp();
    try {
      for (let i = 0; i < 20; i++) {
        assert.equal((await login(app, `user${i}@example.com`, 'wrong', '127.0.3.1')).statusCode, 401);
      }
      const res = await login(app, 'user99@example.com', RIGHT_PASSWORD, '127.0.3.1');
      assertProblem(res, 429, 'RATE_LIMITED');
      assertRetryAfter(res, 1, 3); // 20 per minute: one comes back every 3 s
      assert.equal((await login(app, 'user99@example.com', RIGHT_PASSWORD, '127.0.3.2')).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('successful logins never count as failures', async () => {
    const app = await gatewayApp();
    try {
      for (let i = 0; i < 12; i++) {
        assert.equal((await login(app, 'happy@example.com', RIGHT_PASSWORD, '127.0.4.1')).statusCode, 200);
      }
    } finally {
      await app.close();
    }
  });

  test('limits can be lifted by configuration', async () => {
    const app = await gatewayApp({
      BAZAAR_LOGIN_FAILURES_PER_ACCOUNT: 'off',
      BAZAAR_LOGIN_FAILURES_PER_IP: 'off',
    });
    try {
      for (let i = 0; i < 25; i++) {
        assert.equal((await login(app, 'bench@example.com', 'wrong', '127.0.5.1')).statusCode, 401);
      }
    } finally {
      await app.close();
    }
  });

  test('a malformed limit stops the gateway at start', async () => {
    await assert.rejects(gatewayApp({ BAZAAR_RATE_LIMIT_PER_IP: 'plenty' }), /BAZAAR_RATE_LIMIT_PER_IP/);
  });
});

describe('TLS', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bazaar-gateway-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat(
        ['-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ),
      { stdio: 'ignore' },
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('with a certificate the gateway speaks HTTPS and sends HSTS', async () => {
    const app = await gatewayApp({
      BAZAAR_TLS_CERT: join(dir, 'cert.pem'),
      BAZAAR_TLS_KEY: join(dir, 'key.pem'),
    });
    const tls = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const res = await tls.request({
        origin: `https://127.0.0.1:${port}`,
        path: '/api/products',
        method: 'GET',
      });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
      await res.body.dump();
    } finally {
      await tls.close();
      await app.close();
    }
  });
});

test('access lines follow the log level as it is changed while running', async () => {
  const lines: { msg: string; path?: string; status?: number }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const app = await gatewayApp({}, log);
  try {
    const accessLines = () => lines.filter((l) => l.msg === 'access');
    assert.equal((await app.inject('/api/products')).statusCode, 200);
    assert.equal(accessLines().length, 0, 'none at warn');
    log.level = 'info';
    assert.equal((await app.inject('/api/products?limit=1')).statusCode, 200);
    assert.deepEqual(
      accessLines().map((l) => [l.path, l.status]),
      [['/api/products', 200]],
    );
  } finally {
    await app.close();
  }
});
