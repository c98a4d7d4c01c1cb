import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentialHashes } from '../src/credentials.ts';
import { isAlive } from '../src/processes.ts';
import type { ServiceSpec } from '../src/services.ts';
import { type System, startSystem } from '../src/system.ts';

const fixture = fileURLToPath(new URL('./fixtures/fake-service.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'bazaar-sys-'));
chmodSync(root, 0o755);
const systems: System[] = [];
after(async () => {
  await Promise.all(systems.map((s) => s.stop()));
  rmSync(root, { recursive: true, force: true });
});

const fakes: ServiceSpec[] = [
  { name: 'gateway', entry: fixture, replicas: 1 },
  { name: 'catalog', entry: fixture, database: 'catalog', replicas: 2 },
  { name: 'registry', entry: fixture, database: 'registry', replicas: 1 },
];

async function envOf(url: string): Promise<{ pid: number; env: Record<string, string> }> {
  return (await (await fetch(`${url}/env`)).json()) as { pid: number; env: Record<string, string> };
}

test('starts the cluster and every instance in order, with their environment, and stops them all', async () => {
  const dataDir = join(root, 'data');
  const system = await startSystem({
    dataDir,
    services: fakes,
    gatewayPort: 0,
    registryPort: 0,
    replicas: { catalog: 3 },
    quiet: true,
    env: { BAZAAR_EXTRA: 'yes' },
  });
  systems.push(system);
  assert.deepEqual(
    system.instances.map((i) => i.slot),
    ['registry-1', 'catalog-1', 'catalog-2', 'catalog-3', 'gateway-1'],
  );
  assert.equal((await fetch(`${system.gatewayUrl}/health/ready`)).status, 200);

  const registry = await envOf(system.registryUrl);
  const catalog = await envOf(system.instances[1]!.url!);
  const gateway = await envOf(system.gatewayUrl);
  assert.equal(registry.env.BAZAAR_SERVICE_CREDENTIALS, JSON.stringify(credentialHashes(system.credentials)));
  assert.equal(catalog.env.BAZAAR_SERVICE_CREDENTIALS, undefined);
  assert.equal(catalog.env.BAZAAR_REGISTRY_URL, system.registryUrl);
  assert.equal(catalog.env.BAZAAR_SERVICE_CREDENTIAL, system.credentials.catalog);
  assert.match(system.credentials.catalog!, /^bzc_catalog_[A-Za-z0-9_-]{43}$/);
  assert.equal(catalog.env.BAZAAR_DATABASE_URL, system.cluster.url('catalog'));
  assert.equal(catalog.env.BAZAAR_BUS_DATABASE_URL, system.cluster.url('bus'));
  assert.equal(catalog.env.BAZAAR_PORT, '0');
  assert.equal(catalog.env.BAZAAR_SLOT, 'catalog-1');
  assert.equal(catalog.env.BAZAAR_CHAOS, '1');
  assert.equal(catalog.env.BAZAAR_LOG_LEVEL, 'info');
  assert.equal(catalog.env.BAZAAR_EXTRA, 'yes');
  assert.equal(catalog.env.BAZAAR_DATA_DIR, dataDir);
  assert.equal(gateway.env.BAZAAR_DATABASE_URL, undefined);
  const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as { merchantId: string };
  assert.equal(catalog.env.BAZAAR_DEMO_MERCHANT_ID, demo.merchantId);
  assert.equal(statSync(join(dataDir, 'service-credentials.json')).mode & 0o777, 0o600);

  // A second system on the same data folder is refused while this one runs.
  await assert.rejects(
    startSystem({ dataDir, services: fakes, gatewayPort: 0, registryPort: 0, quiet: true }),
    /in use by another Bazaar/,
  );

  const pids = system.instances.map((i) => i.pid!);
  await system.stop();
  for (const pid of [...pids, system.cluster.pid]) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);

  // Started again: same secrets, same demo merchant, same database port.
  const again = await startSystem({ dataDir, services: fakes, gatewayPort: 0, registryPort: 0, quiet: true });
  systems.push(again);
  assert.deepEqual(again.credentials, system.credentials);
  assert.equal(again.cluster.port, system.cluster.port);
  assert.equal((await envOf(again.instances[1]!.url!)).env.BAZAAR_DEMO_MERCHANT_ID, demo.merchantId);
  await again.stop();
});

test('a service that cannot start fails the start-up with its output, and nothing is left running', async () => {
  const dataDir = join(root, 'failing');
  const failing: ServiceSpec[] = [
    { name: 'registry', entry: fixture, replicas: 1 },
    { name: 'orders', entry: fixture, database: 'orders', replicas: 1 },
  ];
  await assert.rejects(
    startSystem({ dataDir, services: failing, registryPort: 0, quiet: true, env: { FAKE_CRASH: '1' } }),
    (err: Error) => {
      assert.match(
        err.message,
        /^Bazaar could not start: registry-1 exited 4 time\(s\) before it became ready/,
      );
      assert.match(err.message, /crashing at start as asked/);
      return true;
    },
  );
  // PostgreSQL removes its pid file when it has shut down.
  assert.equal(existsSync(join(dataDir, 'postgres', 'data', 'postmaster.pid')), false);
  assert.equal(existsSync(join(dataDir, 'bazaar.pid')), false);
});

test('refuses an entry that does not exist, a gateway port in use, and one port for two', async () => {
  await assert.rejects(
    startSystem({
      dataDir: join(root, 'x'),
      services: [{ name: 'registry', entry: '/nope.ts', replicas: 1 }],
    }),
    /entry .*nope\.ts does not exist/,
  );
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as AddressInfo).port;
  try {
    await assert.rejects(
      startSystem({
        dataDir: join(root, 'y'),
        services: fakes,
        gatewayPort: port,
        registryPort: 0,
        quiet: true,
      }),
      new RegExp(
        `port ${port} for the gateway is already in use \\(choose another with BAZAAR_GATEWAY_PORT\\)`,
      ),
    );
  } finally {
    busy.close();
  }
  await assert.rejects(
    startSystem({
      dataDir: join(root, 'z'),
      services: fakes,
      gatewayPort: port,
      registryPort: port,
      quiet: true,
    }),
    new RegExp(`the gateway and the registry cannot both listen on port ${port}`),
  );
});
