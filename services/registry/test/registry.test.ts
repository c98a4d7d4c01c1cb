import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Service, ServiceList } from '@bazaar/contracts';
import { createPool, ManualClock, migrate, RegistryWatch, readMigrations, sleep } from '@bazaar/kit';
import { createTestDatabase, type TestDatabase } from '@bazaar/kit/testing';
import type pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { renewAllLeases } from '../src/store/instances.ts';
import { startSweeper } from '../src/sweeper.ts';
import { startRegistry } from './support/start-registry.ts';

const CATALOG_CREDENTIAL = 'bzc_catalog_0123456789abcdefghijkl';
const GATEWAY_CREDENTIAL = 'bzc_gateway_0123456789abcdefghijkl';
const credentials = JSON.stringify({
  catalog: createHash('sha256').update(CATALOG_CREDENTIAL).digest('hex'),
  gateway: createHash('sha256').update(GATEWAY_CREDENTIAL).digest('hex'),
});

let database: TestDatabase;
let registry: Awaited<ReturnType<typeof startRegistry>>;

before(async () => {
  database = await createTestDatabase('registry_test');
  registry = await startRegistry({ databaseUrl: database.url, credentials });
});
after(async () => {
  await registry?.stop();
  await database?.drop();
});

const instance = (port: number) => ({ service: 'catalog', host: '127.0.0.1', port, version: '1.0.0' });

async function call(method: string, path: string, body?: unknown, credential?: string) {
  const headers: Record<string, string> = {};
  if (credential) headers.authorization = `Bearer ${credential}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(registry.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : undefined,
  };
}

test('registration without a credential is 401 problem+json', async () => {
  const res = await call('PUT', '/v1/instances/catalog-a', instance(4001));
  assert.equal(res.status, 401);
  assert.match(res.type, /application\/problem\+json/);
  assert.equal(res.body.code, 'CREDENTIAL_REQUIRED');
});

test("a wrong credential is 401, and another service's credential is 403", async () => {
  assert.equal(
    (await call('PUT', '/v1/instances/catalog-a', instance(4001), 'bzc_catalog_wrongwrongwrongwrong')).status,
    401,
  );
  const other = await call('PUT', '/v1/instances/catalog-a', instance(4001), GATEWAY_CREDENTIAL);
  assert.equal(other.status, 403);
});

test('malformed JSON and invalid fields are 400 and register nothing', async () => {
  const res = await fetch(`${registry.url}/v1/instances/catalog-bad`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${CATALOG_CREDENTIAL}`, 'content-type': 'application/json' },
    body: '{"service": "catalog", ',
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'MALFORMED_JSON');
  const invalid = await call(
    'PUT',
    '/v1/instances/catalog-bad',
    { ...instance(0), port: 70000 },
    CATALOG_CREDENTIAL,
  );
  assert.equal(invalid.status, 400);
  assert.ok(invalid.body.errors.some((e: { path: string }) => e.path === 'body/port'));
  const listed = await call('GET', '/v1/services');
  assert.ok(!JSON.stringify(listed.body).includes('catalog-bad'));
});

test('a registered instance is listed up; heartbeats renew it; an unknown one is told to register', async () => {
  const created = await call('PUT', '/v1/instances/catalog-b', instance(4002), CATALOG_CREDENTIAL);
  assert.equal(created.status, 201);
  assert.equal(
    (await call('PUT', '/v1/instances/catalog-b', instance(4002), CATALOG_CREDENTIAL)).status,
    200,
  );
  assert.equal(
    (await call('PUT', '/v1/instances/catalog-b/heartbeat', undefined, CATALOG_CREDENTIAL)).status,
    204,
  );
  assert.equal(
    (await call('PUT', '/v1/instances/nobody/heartbeat', undefined, CATALOG_CREDENTIAL)).status,
    404,
  );
  const one = await call('GET', '/v1/services/catalog');
  const listed = (one.body as Service).instances.find((i) => i.id === 'catalog-b');
  assert.equal(listed?.status, 'up');
  assert.equal(listed?.port, 4002);
  assert.equal((await call('GET', '/v1/services/nothing')).status, 404);
});

test('watchers get a snapshot, then every change pushed', async () => {
  const watch = new RegistryWatch({ urls: [registry.url], log: pino({ level: 'silent' }) });
  const changes: string[] = [];
  watch.on('change', (service: string) => changes.push(service));
  await watch.start();
  try {
    assert.ok(watch.connected);
    await call('PUT', '/v1/instances/catalog-c', instance(4003), CATALOG_CREDENTIAL);
    for (let i = 0; i < 50 && !watch.instances('catalog').some((x) => x.id === 'catalog-c'); i++)
      await sleep(20);
    assert.ok(
      watch.instances('catalog').some((x) => x.id === 'catalog-c'),
      'the new instance was pushed',
    );
    assert.equal(
      (await call('DELETE', '/v1/instances/catalog-c', undefined, CATALOG_CREDENTIAL)).status,
      204,
    );
    for (let i = 0; i < 50 && watch.instances('catalog').some((x) => x.id === 'catalog-c'); i++)
      await sleep(20);
    assert.ok(
      !watch.instances('catalog').some((x) => x.id === 'catalog-c'),
      'a draining instance gets no traffic',
    );
    const status = watch
      .services()
      .find((s) => s.name === 'catalog')
      ?.instances.find((x) => x.id === 'catalog-c')?.status;
    assert.equal(status, 'draining');
  } finally {
    watch.stop();
  }
});

test('the sweep evicts a silent instance, and it may register again', async () => {
  const db: pg.Pool = createPool({
    url: database.url,
    max: 2,
    application: 'test',
    log: pino({ level: 'silent' }),
  });
  const clock = new ManualClock(Date.now() + 60_000);
  const sweeper = startSweeper({
    db,
    log: pino({ level: 'silent' }),
    timing: { leaseMs: 6_000, downRetentionMs: 60_000, sweepMs: 20 },
    now: () => clock.now(),
    metrics: new Registry(),
  });
  try {
    await call('PUT', '/v1/instances/catalog-d', instance(4004), CATALOG_CREDENTIAL);
    await sleep(100);
    const down = (await call('GET', '/v1/services/catalog')).body as Service;
    assert.equal(
      down.instances.find((i) => i.id === 'catalog-d')?.status,
      'down',
      'lease ran out on the sweep clock',
    );
    assert.equal(
      (await call('PUT', '/v1/instances/catalog-d/heartbeat', undefined, CATALOG_CREDENTIAL)).status,
      404,
    );
    assert.equal(
      (await call('PUT', '/v1/instances/catalog-d', instance(4004), CATALOG_CREDENTIAL)).status,
      200,
    );
  } finally {
    sweeper.stop();
    await db.end();
  }
});

test('a restarted registry forgets nothing and renews stored leases once', async () => {
  await call('PUT', '/v1/instances/catalog-e', instance(4005), CATALOG_CREDENTIAL);
  await registry.stop();
  registry = await startRegistry({ databaseUrl: database.url, credentials });
  const list = (await call('GET', '/v1/services')).body as ServiceList;
  const e = list.services.find((s) => s.name === 'catalog')?.instances.find((i) => i.id === 'catalog-e');
  assert.equal(e?.status, 'up');
  const db = createPool({ url: database.url, max: 1, application: 'test', log: pino({ level: 'silent' }) });
  try {
    const { rows } = await db.query<{ lease: Date }>(
      "SELECT lease_expires_at AS lease FROM instances WHERE id = 'catalog-e'",
    );
    assert.ok(rows[0]!.lease.getTime() > Date.now() + 4_000, 'lease renewed at start');
    assert.ok((await renewAllLeases(db, Date.now())) >= 1);
  } finally {
    await db.end();
  }
});

test('two registries starting together on an empty database apply the schema once', async () => {
  const fresh = await createTestDatabase('registry_race');
  try {
    const log = pino({ level: 'silent' });
    const migrations = await readMigrations(new URL('../migrations/', import.meta.url));
    const pools = [0, 1].map(() => createPool({ url: fresh.url, max: 2, application: 'race', log }));
    const results = await Promise.all(
      pools.map((db) => migrate(db, { service: 'registry', migrations, log })),
    );
    assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, migrations.length]);
    const { rows } = await pools[0]!.query('SELECT version FROM schema_migrations');
    assert.equal(rows.length, migrations.length);
    await Promise.all(pools.map((p) => p.end()));
  } finally {
    await fresh.drop();
  }
});
