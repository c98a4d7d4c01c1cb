import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GatewayLiveConfig, PROBLEM_CONTENT_TYPE } from '@bazaar/contracts';
import { buildApp, checkLiveConfig } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import gateway from '../src/service.ts';
import { FakeRegistry, type Harness, startHarness } from './support/ops-harness.ts';

const CREDENTIAL = 'bzc_gateway_0123456789abcdefghijkl';

/** The registry's config routes as the gateway meets them: each request seen, each answer set by the test. */
const registry = {
  url: '',
  seen: [] as { method: string; path: string; authorization?: string; body: unknown }[],
  answer: {
    status: 200,
    type: 'application/json',
    body: {} as unknown,
    headers: {} as Record<string, string>,
  },
};
let registryServer: Server;
let harness: Harness;
let app: FastifyInstance;

before(async () => {
  registryServer = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      // The gateway's ops console also polls the instance list: not what these tests look at.
      if (!req.url?.startsWith('/v1/config/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"services":[]}');
        return;
      }
      registry.seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: raw ? JSON.parse(raw) : undefined,
      });
      const { status, type, body, headers } = registry.answer;
      res.writeHead(status, { 'content-type': type, ...headers }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => registryServer.listen(0, '127.0.0.1', resolve));
  registry.url = `http://127.0.0.1:${(registryServer.address() as AddressInfo).port}`;
  harness = await startHarness();
  app = await harness.gateway(new FakeRegistry(), {
    BAZAAR_REGISTRY_URL: registry.url,
    BAZAAR_SERVICE_CREDENTIAL: CREDENTIAL,
  });
});
after(async () => {
  await app?.close();
  await harness?.close();
  registryServer?.closeAllConnections();
  registryServer?.close();
});

function answer(
  status: number,
  body: unknown,
  type = 'application/json',
  headers: Record<string, string> = {},
) {
  registry.answer = { status, body, type, headers };
  registry.seen = [];
}

const document = { service: 'payments', version: 3, values: { simulator: { declineRate: 1 } } };

describe('/api/ops/config', () => {
  test('is for admins only, and nothing reaches the registry otherwise', async () => {
    answer(200, document);
    assert.equal((await app.inject({ url: '/api/ops/config/payments' })).statusCode, 401);
    const customer = await app.inject({
      url: '/api/ops/config/payments',
      headers: await harness.bearer('customer'),
    });
    assert.equal(customer.statusCode, 403);
    assert.equal(registry.seen.length, 0);
  });

  test("reads a service's config from the registry with the gateway's credential", async () => {
    answer(200, document);
    const res = await app.inject({ url: '/api/ops/config/payments', headers: await harness.bearer('admin') });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), document);
    assert.deepEqual(registry.seen, [
      { method: 'GET', path: '/v1/config/payments', authorization: `Bearer ${CREDENTIAL}`, body: undefined },
    ]);
  });

  test('a change and a rollback carry the admin as their author', async () => {
    const headers = await harness.bearer('admin');
    const admin = JSON.parse(Buffer.from(headers.authorization.split('.')[1]!, 'base64url').toString()) as {
      sub: string;
    };
    answer(200, { ...document, version: 4 });
    const change = { values: { simulator: { declineRate: 1 } }, reason: 'drill', expectedVersion: 3 };
    const res = await app.inject({
      method: 'PUT',
      url: '/api/ops/config/payments',
      headers,
      payload: change,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().version, 4);
    // The fake identity does not say who the admin is: the token's subject names them.
    assert.deepEqual(registry.seen[0]?.body, { ...change, author: admin.sub });
    assert.equal(registry.seen[0]?.method, 'PUT');

    answer(200, { ...document, version: 5 });
    const rollback = await app.inject({
      method: 'POST',
      url: '/api/ops/config/payments/rollback',
      headers,
      payload: { version: 2, reason: 'undo' },
    });
    assert.equal(rollback.statusCode, 200);
    assert.deepEqual(registry.seen[0], {
      method: 'POST',
      path: '/v1/config/payments/rollback',
      authorization: `Bearer ${CREDENTIAL}`,
      body: { version: 2, reason: 'undo', author: admin.sub },
    });

    answer(200, { items: [], nextCursor: null });
    const history = await app.inject({ url: '/api/ops/config/payments/history', headers });
    assert.deepEqual(history.json(), { items: [], nextCursor: null });
    assert.equal(registry.seen[0]?.path, '/v1/config/payments/history');
  });

  test("the registry's problems come back as they are, naming the field", async () => {
    const headers = await harness.bearer('admin');
    const invalid = {
      type: 'urn:bazaar:problem:validation-failed',
      title: 'Invalid request',
      status: 400,
      detail: 'The configuration has invalid fields; nothing was changed.',
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'values/simulator/declineRate', message: 'must be <= 1' }],
    };
    answer(400, invalid, PROBLEM_CONTENT_TYPE);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/ops/config/payments',
      headers,
      payload: { values: { simulator: { declineRate: 2 } }, reason: 'oops', expectedVersion: 3 },
    });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json().code, 'VALIDATION_FAILED');
    assert.deepEqual(res.json().errors, invalid.errors);
    assert.equal(res.json().instance, '/api/ops/config/payments');

    answer(
      409,
      { ...invalid, status: 409, code: 'CONFIG_VERSION_CONFLICT', errors: undefined },
      PROBLEM_CONTENT_TYPE,
    );
    const stale = await app.inject({
      method: 'PUT',
      url: '/api/ops/config/payments',
      headers,
      payload: { values: {}, reason: 'late', expectedVersion: 1 },
    });
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().code, 'CONFIG_VERSION_CONFLICT');
  });

  test('a body the contract refuses never reaches the registry', async () => {
    answer(200, document);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/ops/config/payments',
      headers: await harness.bearer('admin'),
      payload: { values: {}, expectedVersion: 3 },
    });
    assert.equal(res.statusCode, 400);
    assert.ok(res.json().errors.some((e: { path: string }) => e.path === 'body/reason'));
    assert.equal(registry.seen.length, 0);
  });

  test("a registry refusing the gateway's credential is the gateway's fault: 502", async () => {
    answer(
      401,
      { code: 'CREDENTIAL_INVALID', status: 401, detail: 'unknown credential' },
      PROBLEM_CONTENT_TYPE,
    );
    const res = await app.inject({ url: '/api/ops/config/payments', headers: await harness.bearer('admin') });
    assert.equal(res.statusCode, 502);
    assert.doesNotMatch(res.body, /credential/i);
  });

  test('without a registry to answer, 503 with Retry-After', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const lonely = await harness.gateway(new FakeRegistry(), {
      BAZAAR_REGISTRY_URL: `http://127.0.0.1:${port}`,
      BAZAAR_SERVICE_CREDENTIAL: CREDENTIAL,
    });
    try {
      const res = await lonely.inject({
        url: '/api/ops/config/payments',
        headers: await harness.bearer('admin'),
      });
      assert.equal(res.statusCode, 503);
      assert.ok(Number(res.headers['retry-after']) >= 1);
    } finally {
      await lonely.close();
    }
  });
});

describe('live rate limits', () => {
  test("a config version's rate limits replace the environment's, and a limit that cannot apply is refused", async () => {
    const { app: limited, ctx } = await buildApp(gateway, {
      env: { BAZAAR_LOG_LEVEL: 'silent', BAZAAR_REGISTRY_URL: registry.url },
      registry: new FakeRegistry(),
    });
    try {
      const hit = async () => (await limited.inject({ url: '/api/openapi.json.missing' })).statusCode;
      assert.notEqual(await hit(), 429);
      assert.notEqual(await hit(), 429, 'the environment allows 1000/s');

      const tight = checkLiveConfig(GatewayLiveConfig, { rateLimits: { perAddress: '1/m' } });
      assert.ok(tight.ok);
      await gateway.liveConfig?.(tight.values, ctx);
      assert.notEqual(await hit(), 429, 'the bucket starts full');
      assert.equal(await hit(), 429);

      const broken = checkLiveConfig(GatewayLiveConfig, { rateLimits: { perAddress: '0/s' } });
      assert.ok(broken.ok, 'the pattern lets it through');
      assert.throws(() => gateway.liveConfig?.(broken.values, ctx), /rateLimits\.perAddress/);
      assert.equal(await hit(), 429, 'the limits in force stay');
    } finally {
      await limited.close();
    }
  });
});
