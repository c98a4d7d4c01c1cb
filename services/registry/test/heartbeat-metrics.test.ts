import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@bazaar/kit/testing';
import { startRegistry } from './support/start-registry.ts';

const CATALOG = 'bzc_catalog_0123456789abcdefghijkl';
const GATEWAY = 'bzc_gateway_0123456789abcdefghijkl';
const hash = (s: string) => createHash('sha256').update(s).digest('hex');

let database: TestDatabase;
let registry: Awaited<ReturnType<typeof startRegistry>>;
before(async () => {
  database = await createTestDatabase('registry_heartbeats');
  registry = await startRegistry({
    databaseUrl: database.url,
    credentials: JSON.stringify({ catalog: hash(CATALOG), gateway: hash(GATEWAY) }),
  });
});
after(async () => {
  await registry?.stop();
  await database?.drop();
});

async function put(path: string, credential: string, body?: unknown): Promise<number> {
  const res = await fetch(registry.url + path, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${credential}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The registry's heartbeat counter by outcome, read from its /metrics. */
async function heartbeats(): Promise<Record<string, number>> {
  const text = await (await fetch(`${registry.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^bazaar_registry_heartbeats_total\{outcome="(\w+)"[^}]*\} (\d+)$/gm))
    counts[match[1]!] = Number(match[2]);
  return counts;
}

test('heartbeats are counted by outcome, every outcome from 0', async () => {
  assert.deepEqual(await heartbeats(), { renewed: 0, unknown: 0, refused: 0 });
  const instance = { service: 'catalog', host: '127.0.0.1', port: 4100, version: '1.0.0' };
  assert.equal(await put('/v1/instances/catalog-hb', CATALOG, instance), 201);
  assert.equal(await put('/v1/instances/catalog-hb/heartbeat', CATALOG), 204);
  assert.equal(await put('/v1/instances/catalog-hb/heartbeat', CATALOG), 204);
  assert.equal(await put('/v1/instances/nobody/heartbeat', CATALOG), 404);
  assert.equal(await put('/v1/instances/catalog-hb/heartbeat', GATEWAY), 403);
  assert.deepEqual(await heartbeats(), { renewed: 2, unknown: 1, refused: 1 });
});
