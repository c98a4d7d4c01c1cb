import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { ConfigDocument, ConfigHistory, ConfigPushed, ServiceList } from '@bazaar/contracts';
import { RegistryWatch, sleep } from '@bazaar/kit';
import { createTestDatabase, type TestDatabase } from '@bazaar/kit/testing';
import pino from 'pino';
import { startRegistry } from './support/start-registry.ts';

const GATEWAY = 'bzc_gateway_0123456789abcdefghijkl';
const PAYMENTS = 'bzc_payments_0123456789abcdefghijk';
const CATALOG = 'bzc_catalog_0123456789abcdefghijkl';
const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const credentials = JSON.stringify({
  gateway: hash(GATEWAY),
  payments: hash(PAYMENTS),
  catalog: hash(CATALOG),
});

let database: TestDatabase;
let registry: Awaited<ReturnType<typeof startRegistry>>;
let replica: Awaited<ReturnType<typeof startRegistry>>;

before(async () => {
  database = await createTestDatabase('registry_config_test');
  registry = await startRegistry({ databaseUrl: database.url, credentials });
  replica = await startRegistry({ databaseUrl: database.url, credentials });
});
after(async () => {
  await replica?.stop();
  await registry?.stop();
  await database?.drop();
});

async function call(
  method: string,
  path: string,
  options: { body?: unknown; credential?: string; base?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.credential) headers.authorization = `Bearer ${options.credential}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch((options.base ?? registry.url) + path, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : undefined,
  };
}

const change = (values: unknown, expectedVersion: number, reason = 'a test change') => ({
  values,
  reason,
  expectedVersion,
  author: 'admin@bazaar.local',
});

async function until(what: string, ok: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

test('a config never set is version 0 with the defaults; only the service itself and the gateway read it', async () => {
  const own = await call('GET', '/v1/config/catalog', { credential: CATALOG });
  assert.equal(own.status, 200);
  assert.deepEqual(own.body, {
    service: 'catalog',
    version: 0,
    values: {
      logLevel: 'info',
      resilience: {
        breakerFailureRatio: 0.5,
        breakerMinimumCalls: 20,
        breakerWindowMs: 10_000,
        breakerHalfOpenAfterMs: 5_000,
        maxAttempts: 3,
        retryBudgetRatio: 0.2,
      },
      tracing: { enabled: true, sampleRatio: 0.01, samplesPerSecond: 10 },
      metrics: { requests: true },
    },
  });
  assert.equal((await call('GET', '/v1/config/catalog', { credential: GATEWAY })).status, 200);
  assert.equal((await call('GET', '/v1/config/catalog', { credential: PAYMENTS })).status, 403);
  assert.equal((await call('GET', '/v1/config/catalog')).status, 401);
  const unknown = await call('GET', '/v1/config/nothing', { credential: GATEWAY });
  assert.equal(unknown.status, 404);
  assert.match(unknown.type, /application\/problem\+json/);
});

test('the gateway stores a change as the next version, with the defaults filled; no one else may', async () => {
  const refused = await call('PUT', '/v1/config/payments', {
    credential: PAYMENTS,
    body: change({ simulator: { declineRate: 1 } }, 0),
  });
  assert.equal(refused.status, 403);
  const stored = await call('PUT', '/v1/config/payments', {
    credential: GATEWAY,
    body: change({ simulator: { declineRate: 1 } }, 0, 'decline everything'),
  });
  assert.equal(stored.status, 200, JSON.stringify(stored.body));
  const document = stored.body as ConfigDocument;
  assert.equal(document.version, 1);
  assert.deepEqual(document.values.simulator, { declineRate: 1, errorRate: 0, latencyMs: 0 });
  assert.equal(document.values.logLevel, 'info');
  const read = await call('GET', '/v1/config/payments', { credential: PAYMENTS });
  assert.deepEqual(read.body, document);
});

test('invalid values are refused naming each field, and change nothing', async () => {
  const before = (await call('GET', '/v1/config/payments', { credential: GATEWAY })).body as ConfigDocument;
  for (const [values, path] of [
    [{ simulator: { declineRate: 2 } }, 'values/simulator/declineRate'],
    [{ simulator: { latencyMs: 'slow' } }, 'values/simulator/latencyMs'],
    [{ simulator: { refundRate: 0.5 } }, 'values/simulator/refundRate'],
    [{ colour: 'red' }, 'values/colour'],
    [{ logLevel: 'chatty' }, 'values/logLevel'],
    [{ resilience: { maxAttempts: 0 } }, 'values/resilience/maxAttempts'],
  ] as const) {
    const res = await call('PUT', '/v1/config/payments', {
      credential: GATEWAY,
      body: change(values, before.version),
    });
    assert.equal(res.status, 400, JSON.stringify(values));
    assert.match(res.type, /application\/problem\+json/);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      res.body.errors.map((e: { path: string }) => e.path),
      [path],
      JSON.stringify(res.body.errors),
    );
  }
  const level = await call('PUT', '/v1/config/payments', {
    credential: GATEWAY,
    body: change({ logLevel: 'chatty' }, before.version),
  });
  assert.match(level.body.errors[0].message, /"debug"/, 'a log level lists the accepted ones');
  const missingReason = await call('PUT', '/v1/config/payments', {
    credential: GATEWAY,
    body: { values: {}, expectedVersion: before.version, author: 'someone' },
  });
  assert.equal(missingReason.status, 400);
  const after = (await call('GET', '/v1/config/payments', { credential: GATEWAY })).body as ConfigDocument;
  assert.deepEqual(after, before);
});

test('a stale expected version is 409, and of two changes on the same version only one is stored', async () => {
  const current = ((await call('GET', '/v1/config/catalog', { credential: GATEWAY })).body as ConfigDocument)
    .version;
  const stale = await call('PUT', '/v1/config/catalog', {
    credential: GATEWAY,
    body: change({}, current + 3),
  });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.code, 'CONFIG_VERSION_CONFLICT');
  const racing = await Promise.all(
    ['debug', 'warn'].map((logLevel) =>
      call('PUT', '/v1/config/catalog', { credential: GATEWAY, body: change({ logLevel }, current) }),
    ),
  );
  assert.deepEqual(racing.map((r) => r.status).sort(), [200, 409]);
  const now = (await call('GET', '/v1/config/catalog', { credential: GATEWAY })).body as ConfigDocument;
  assert.equal(now.version, current + 1);
});

test('history is newest first with author and reason; a rollback is a new version equal to the old', async () => {
  const first = (await call('GET', '/v1/config/payments', { credential: GATEWAY })).body as ConfigDocument;
  const second = await call('PUT', '/v1/config/payments', {
    credential: GATEWAY,
    body: change({ simulator: { declineRate: 0 } }, first.version, 'back to normal'),
  });
  assert.equal(second.status, 200);
  const history = (await call('GET', '/v1/config/payments/history', { credential: GATEWAY }))
    .body as ConfigHistory;
  assert.deepEqual(
    history.items.map((v) => [v.version, v.reason, v.author]),
    [
      [first.version + 1, 'back to normal', 'admin@bazaar.local'],
      [first.version, 'decline everything', 'admin@bazaar.local'],
    ],
  );
  assert.equal((await call('GET', '/v1/config/payments/history', { credential: PAYMENTS })).status, 403);

  const rollback = await call('POST', '/v1/config/payments/rollback', {
    credential: GATEWAY,
    body: { version: first.version, reason: 'again', author: 'ops@bazaar.local' },
  });
  assert.equal(rollback.status, 200, JSON.stringify(rollback.body));
  assert.equal(rollback.body.version, first.version + 2);
  assert.deepEqual(rollback.body.values, first.values);
  const newest = (
    (await call('GET', '/v1/config/payments/history', { credential: GATEWAY })).body as ConfigHistory
  ).items[0]!;
  assert.deepEqual(
    [newest.version, newest.reason, newest.author],
    [first.version + 2, 'again', 'ops@bazaar.local'],
  );
  const missing = await call('POST', '/v1/config/payments/rollback', {
    credential: GATEWAY,
    body: { version: 999, reason: 'nope', author: 'ops@bazaar.local' },
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'CONFIG_VERSION_NOT_FOUND');
});

test("every replica's watchers are pushed each new version as a config event", async () => {
  const watches = [registry.url, replica.url].map(
    (url) => new RegistryWatch({ urls: [url], log: pino({ level: 'silent' }) }),
  );
  const seen: ConfigPushed[][] = [[], []];
  for (const [i, w] of watches.entries()) w.on('config', (pushed: ConfigPushed) => seen[i]!.push(pushed));
  await Promise.all(watches.map((w) => w.start()));
  try {
    const current = ((await call('GET', '/v1/config/orders', { credential: GATEWAY })).body as ConfigDocument)
      .version;
    const res = await call('PUT', '/v1/config/orders', {
      credential: GATEWAY,
      base: replica.url,
      body: change({ features: { checkout: false } }, current, 'maintenance'),
    });
    assert.equal(res.status, 200);
    await until('both watchers were pushed the change', () => seen.every((s) => s.length > 0));
    for (const s of seen) assert.deepEqual(s, [{ service: 'orders', version: current + 1 }]);
  } finally {
    for (const w of watches) w.stop();
  }
});

test('heartbeats may report the applied config, which the registry lists per instance', async () => {
  const instance = { service: 'payments', host: '127.0.0.1', port: 4100, version: '1.0.0' };
  assert.equal(
    (await call('PUT', '/v1/instances/payments-a', { credential: PAYMENTS, body: instance })).status,
    201,
  );
  const listed = async () =>
    ((await call('GET', '/v1/services')).body as ServiceList).services
      .find((s) => s.name === 'payments')
      ?.instances.find((i) => i.id === 'payments-a');
  assert.equal((await listed())?.config, null, 'nothing reported yet');

  const watch = new RegistryWatch({ urls: [registry.url], log: pino({ level: 'silent' }) });
  await watch.start();
  try {
    const report = {
      config: { version: 3, error: 'version 4 not applied: values/x is not an accepted field' },
    };
    const beat = await call('PUT', '/v1/instances/payments-a/heartbeat', {
      credential: PAYMENTS,
      body: report,
    });
    assert.equal(beat.status, 204);
    assert.deepEqual((await listed())?.config, report.config);
    await until('watchers were told', () =>
      watch.services().some((s) => s.instances.some((i) => i.id === 'payments-a' && i.config?.version === 3)),
    );
    // A heartbeat without a report keeps the last one; a malformed report still renews the lease.
    assert.equal(
      (await call('PUT', '/v1/instances/payments-a/heartbeat', { credential: PAYMENTS })).status,
      204,
    );
    const malformed = await call('PUT', '/v1/instances/payments-a/heartbeat', {
      credential: PAYMENTS,
      body: { config: { version: 'latest' } },
    });
    assert.equal(malformed.status, 204);
    assert.deepEqual((await listed())?.config, report.config);
  } finally {
    watch.stop();
  }
});
