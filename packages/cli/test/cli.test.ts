import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentialHashes, loadOrCreateServiceCredentials } from '../src/credentials.ts';
import { findFreePort } from '../src/free-port.ts';
import { formatLogLine } from '../src/log-format.ts';
import { startGroups } from '../src/services.ts';
import { runStatus } from '../src/status.ts';
import { parseReplicas, parseUpArgs } from '../src/up.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const bazaar = (...args: string[]) =>
  spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });

test('unknown commands and flags print the usage and exit 2', () => {
  for (const args of [
    ['frobnicate'],
    [],
    ['up', '--nope'],
    ['up', '--replicas', 'catalog'],
    ['status', 'extra'],
  ]) {
    const run = bazaar(...args);
    assert.equal(run.status, 2, `bazaar ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /Usage: bazaar <command>/);
  }
  const help = bazaar('help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: bazaar/);
});

test('a chosen free port lies below the range outgoing connections take theirs from, and avoids what it is told to', async () => {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  for (let i = 0; i < 20; i++) {
    const port = await findFreePort({ avoid: [5432] });
    assert.ok(port >= 15_000 && port < (low ?? 0), `${port} is outside [15000, ${low})`);
    assert.notEqual(port, 5432);
  }
});

test('ports handed out but not yet listened on are not handed out again', async () => {
  // 500 draws from the ~17,000 ports below the ephemeral range: without the memory of what was
  // handed out, two would be the same nearly every time (birthday bound: 1 − e^(−500²/34,000)).
  const ports = new Set<number>();
  for (let i = 0; i < 500; i++) ports.add(await findFreePort());
  assert.equal(ports.size, 500);
});

test('bazaar status exits 1 with a clear message when the registry is unreachable', async () => {
  const port = await findFreePort();
  const run = bazaar('status', '--registry', `http://127.0.0.1:${port}`);
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    new RegExp(`the registry is unreachable \\(http://127\\.0\\.0\\.1:${port}: ECONNREFUSED\\)`),
  );
});

test("bazaar status prints the registry as a table, with health and the gateway's circuit states", async () => {
  const at = new Date(Date.now() - 1500).toISOString();
  let port = 0;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/health/ready') return res.end('{"status":"ready"}');
    if (req.url === '/metrics') {
      return res.end(
        `bazaar_client_circuit_state{target="catalog",instance="127.0.0.1:${port}",service="gateway"} 1\n`,
      );
    }
    assert.equal(req.url, '/v1/services');
    res.end(
      JSON.stringify({
        services: [
          {
            name: 'catalog',
            instances: [
              {
                id: 'catalog-1a2b',
                host: '127.0.0.1',
                port,
                version: '0.1.0',
                status: 'up',
                metadata: { pid: '4242' },
                lastHeartbeatAt: at,
              },
            ],
          },
          { name: 'orders', instances: [] },
        ],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const chunks: string[] = [];
  try {
    assert.equal(
      await runStatus({
        registryUrl: `http://127.0.0.1:9,${url}`,
        gatewayUrl: url,
        write: (t) => void chunks.push(t),
      }),
      0,
    );
  } finally {
    server.close();
  }
  const out = chunks.join('');
  assert.match(out, /SERVICE +INSTANCE +PID +ADDRESS +VERSION +STATUS +HEALTH +CIRCUIT +LAST HEARTBEAT/);
  assert.match(
    out,
    new RegExp(
      `catalog +catalog-1a2b +4242 +127\\.0\\.0\\.1:${port} +0\\.1\\.0 +up +ready +open +1\\.\\d s ago`,
    ),
  );
  assert.match(out, /orders +- +- +- +- +no instances/);
});

test('up arguments: replicas, data folder, ports', () => {
  assert.deepEqual(parseReplicas(['catalog=3,gateway=2', 'orders=1']), { catalog: 3, gateway: 2, orders: 1 });
  assert.throws(() => parseReplicas(['catalog=x']), /--replicas expects/);
  const options = parseUpArgs(['--data-dir', '/tmp/d', '--gateway-port', '9090', '--replicas', 'catalog=4']);
  assert.equal(options.dataDir, '/tmp/d');
  assert.equal(options.gatewayPort, 9090);
  assert.deepEqual(options.replicas, { catalog: 4 });
  assert.equal(options.terminalLevel, 40, 'until ready, only warnings and errors are printed');
  assert.equal(parseUpArgs(['--verbose']).terminalLevel, 0);
});

test('service credentials are kept 0600, extended for new services, and hashed with SHA-256', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-cred-'));
  try {
    const first = loadOrCreateServiceCredentials(dir, ['registry', 'catalog']);
    assert.match(first.catalog!, /^bzc_catalog_[A-Za-z0-9_-]{43}$/);
    const file = join(dir, 'service-credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    chmodSync(file, 0o644);
    const second = loadOrCreateServiceCredentials(dir, ['registry', 'catalog', 'orders']);
    assert.equal(second.catalog, first.catalog);
    assert.match(second.orders!, /^bzc_orders_/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8'))), ['registry', 'catalog', 'orders']);
    const hashes = credentialHashes({ a: 'secret' });
    assert.equal(hashes.a, '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
    writeFileSync(file, 'not json');
    assert.throws(() => loadOrCreateServiceCredentials(dir, ['x']), /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('start groups: registry first, gateway last, the rest together', () => {
  const groups = startGroups([
    { name: 'gateway', entry: 'g', replicas: 1 },
    { name: 'catalog', entry: 'c', replicas: 2 },
    { name: 'registry', entry: 'r', replicas: 1 },
    { name: 'orders', entry: 'o', replicas: 1 },
  ]);
  assert.deepEqual(
    groups.map((g) => g.map((s) => s.name)),
    [['registry'], ['catalog', 'orders'], ['gateway']],
  );
});

test('log lines: pino JSON made readable, other lines kept as they are', () => {
  const options = { slot: 'catalog-1', width: 10, slotColour: 36, colour: false };
  const time = new Date(2024, 0, 1, 9, 5, 7).toISOString();
  const line = JSON.stringify({
    level: 40,
    levelName: 'warn',
    time,
    service: 'catalog',
    instance: 'c-1',
    msg: 'slow query',
    ms: 120,
    sql: 'select 1',
  });
  assert.equal(formatLogLine(line, options), '09:05:07 catalog-1  │ WARN  slow query ms=120 sql="select 1"');
  assert.match(formatLogLine('plain text', options), /^\d\d:\d\d:\d\d catalog-1 {2}│ plain text$/);
});
