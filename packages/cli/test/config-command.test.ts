import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ConfigVersion, PaymentsLiveConfig } from '@bazaar/contracts';
import { type ConfigAction, parseConfigArgs, runConfig } from '../src/config-command.ts';
import { diffConfig, formatDifference, schemaDefaults } from '../src/config-diff.ts';
import { findFreePort } from '../src/free-port.ts';
import { UsageError } from '../src/usage.ts';

const ADMIN = { email: 'admin@bazaar.local', password: 'correct-horse-battery' };
const problem = (
  status: number,
  code: string,
  detail: string,
  errors?: { path: string; message: string }[],
) => ({
  type: `urn:bazaar:problem:${code.toLowerCase()}`,
  title: code === 'VALIDATION_FAILED' ? 'Invalid request' : 'Conflict',
  status,
  code,
  detail,
  ...(errors ? { errors } : {}),
});

/** The gateway's config routes over one service's versions, signed in with the admin's password only. */
const gateway = {
  url: '',
  versions: [] as ConfigVersion[],
  sessions: 0,
  defaults: schemaDefaults(PaymentsLiveConfig) as { simulator: Record<string, number> },
  current() {
    const last = gateway.versions.at(-1);
    return { service: 'payments', version: last?.version ?? 0, values: last?.values ?? gateway.defaults };
  },
  store(values: Record<string, unknown>, reason: string) {
    const version = gateway.current().version + 1;
    gateway.versions.push({
      version,
      values,
      reason,
      author: ADMIN.email,
      at: `2026-01-0${version}T10:00:00.000Z`,
    });
    return gateway.current();
  },
};
let server: Server;
let dataDir: string;

before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      const send = (status: number, answer: unknown) => {
        const type = status >= 400 ? 'application/problem+json' : 'application/json';
        res.writeHead(status, { 'content-type': type }).end(JSON.stringify(answer));
      };
      if (req.url === '/api/auth/login') {
        if (body.email !== ADMIN.email || body.password !== ADMIN.password)
          return send(401, problem(401, 'INVALID_CREDENTIALS', 'no'));
        gateway.sessions++;
        return send(200, {
          accessToken: 'admin-token',
          refreshToken: 'refresh',
          tokenType: 'Bearer',
          expiresIn: 600,
        });
      }
      if (req.url === '/api/auth/logout') {
        gateway.sessions--;
        return res.writeHead(204).end();
      }
      if (req.headers.authorization !== 'Bearer admin-token')
        return send(401, problem(401, 'UNAUTHORIZED', 'sign in'));
      if (req.url === '/api/ops/config/payments' && req.method === 'GET') return send(200, gateway.current());
      if (req.url === '/api/ops/config/payments/history')
        return send(200, { items: [...gateway.versions].reverse() });
      if (req.url === '/api/ops/config/payments' && req.method === 'PUT') {
        if (body.expectedVersion !== gateway.current().version)
          return send(
            409,
            problem(
              409,
              'CONFIG_VERSION_CONFLICT',
              `payments's config is at version ${gateway.current().version}`,
            ),
          );
        if ((body.values.simulator?.declineRate ?? 0) > 1)
          return send(
            400,
            problem(400, 'VALIDATION_FAILED', 'The configuration has invalid fields; nothing was changed.', [
              { path: 'values/simulator/declineRate', message: 'must be <= 1' },
            ]),
          );
        const simulator = { ...gateway.defaults.simulator, ...body.values.simulator };
        return send(200, gateway.store({ ...gateway.defaults, ...body.values, simulator }, body.reason));
      }
      if (req.url === '/api/ops/config/payments/rollback') {
        const old = gateway.versions.find((v) => v.version === body.version);
        if (!old) return send(404, problem(404, 'CONFIG_VERSION_NOT_FOUND', 'no such version'));
        return send(200, gateway.store(old.values, body.reason));
      }
      send(404, problem(404, 'ROUTE_NOT_FOUND', 'nothing here'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dataDir = mkdtempSync(join(tmpdir(), 'bazaar-config-cli-'));
  writeFileSync(join(dataDir, 'credentials.json'), JSON.stringify({ admin: ADMIN }));
});
after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function config(action: ConfigAction, input = '') {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfig(action, {
    gatewayUrl: gateway.url,
    dataDir,
    write: (t) => out.push(t),
    writeError: (t) => err.push(t),
    readSource: async () => input,
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('bazaar config', () => {
  test('get prints the values as JSON and the version apart, signed in as the admin', async () => {
    const run = await config({ kind: 'get', service: 'payments' });
    assert.equal(run.code, 0, run.err);
    assert.deepEqual(JSON.parse(run.out), gateway.defaults);
    assert.match(run.err, /payments: version 0 \(never set/);
    assert.equal(gateway.sessions, 0, 'the session it opened is closed again');
  });

  test('set replaces the values on top of the current version and shows what changed', async () => {
    const run = await config(
      { kind: 'set', service: 'payments', source: '-', reason: 'decline drill' },
      '{"simulator":{"declineRate":1}}',
    );
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /payments: version 1, pushed to its instances/);
    assert.match(run.out, /simulator\.declineRate 0 → 1/);
    assert.equal(gateway.versions.at(-1)?.reason, 'decline drill');
  });

  test('a refused change prints the problem and each field it names, and exits 1', async () => {
    const invalid = await config(
      { kind: 'set', service: 'payments', source: 'values.json', reason: 'typo' },
      '{"simulator":{"declineRate":2}}',
    );
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /400 VALIDATION_FAILED/);
    assert.match(invalid.err, /values\/simulator\/declineRate: must be <= 1/);

    const stale = await config(
      { kind: 'set', service: 'payments', source: 'values.json', reason: 'late', expect: 0 },
      '{}',
    );
    assert.equal(stale.code, 1);
    assert.match(stale.err, /409 CONFIG_VERSION_CONFLICT/);
    assert.match(stale.err, /--expect N/);

    const notJson = await config(
      { kind: 'set', service: 'payments', source: 'values.json', reason: 'x' },
      '{nope',
    );
    assert.equal(notJson.code, 1);
    assert.match(notJson.err, /values\.json is not valid JSON/);
    assert.equal(gateway.current().version, 1, 'nothing was stored');
  });

  test('history lists every version with author, reason and changes; rollback makes a new equal version', async () => {
    await config({ kind: 'set', service: 'payments', source: '-', reason: 'back to normal' }, '{}');
    const rollback = await config({ kind: 'rollback', service: 'payments', version: 1, reason: 'again' });
    assert.equal(rollback.code, 0, rollback.err);
    assert.match(rollback.out, /payments: version 3 \(equal to version 1\)/);
    const history = await config({ kind: 'history', service: 'payments' });
    assert.equal(history.code, 0, history.err);
    const lines = history.out.trim().split('\n');
    assert.match(lines[0]!, /^VERSION\s+AT\s+AUTHOR\s+REASON\s+CHANGES$/);
    assert.match(lines[1]!, /^3 .*admin@bazaar\.local\s+again\s+simulator\.declineRate 0 → 1$/);
    assert.match(lines[2]!, /^2 .*back to normal\s+simulator\.declineRate 1 → 0$/);
    assert.match(lines[3]!, /^1 .*decline drill\s+simulator\.declineRate 0 → 1$/);
  });

  test('a wrong password, a missing credentials file and an absent gateway are said plainly', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'bazaar-config-cli-'));
    try {
      const none = await runConfig(
        { kind: 'get', service: 'payments' },
        { gatewayUrl: gateway.url, dataDir: elsewhere, writeError: () => undefined },
      );
      assert.equal(none, 1);
      writeFileSync(
        join(elsewhere, 'credentials.json'),
        JSON.stringify({ admin: { ...ADMIN, password: 'old' } }),
      );
      const errors: string[] = [];
      const wrong = await runConfig(
        { kind: 'get', service: 'payments' },
        { gatewayUrl: gateway.url, dataDir: elsewhere, writeError: (t) => errors.push(t) },
      );
      assert.equal(wrong, 1);
      assert.match(errors.join(''), /refused the admin's password.*reset-password/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    const port = await findFreePort();
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const run = spawnSync(
      process.execPath,
      [main, 'config', 'get', 'payments', '--gateway', `http://127.0.0.1:${port}`, '--data-dir', dataDir],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(run.status, 1);
    assert.match(run.stderr, /the gateway at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/);
  });
});

test('config arguments are parsed, and misuse is a usage error', () => {
  assert.deepEqual(
    parseConfigArgs(['set', 'payments', 'v.json', '--reason', 'why', '--expect', '4']).action,
    {
      kind: 'set',
      service: 'payments',
      source: 'v.json',
      reason: 'why',
      expect: 4,
    },
  );
  assert.deepEqual(
    parseConfigArgs(['rollback', 'orders', '2', '--reason', 'undo', '--gateway', 'http://g']),
    {
      action: { kind: 'rollback', service: 'orders', version: 2, reason: 'undo' },
      gateway: 'http://g',
      dataDir: undefined,
    },
  );
  for (const args of [
    [],
    ['get'],
    ['set', 'payments', 'v.json'],
    ['set', 'payments', '--reason', 'why'],
    ['rollback', 'payments', 'latest', '--reason', 'why'],
    ['rollback', 'payments', '0', '--reason', 'why'],
    ['history', 'payments', 'extra'],
    ['get', 'payments', '--colour'],
    ['frobnicate', 'payments'],
  ]) {
    assert.throws(() => parseConfigArgs(args), UsageError, args.join(' '));
  }
});

test('differences between versions are named leaf by leaf, from the defaults a schema declares', () => {
  assert.deepEqual((schemaDefaults(PaymentsLiveConfig) as { simulator: unknown }).simulator, {
    declineRate: 0,
    errorRate: 0,
    latencyMs: 0,
  });
  assert.deepEqual(
    diffConfig({ a: { b: 1, c: 'x' }, d: [1] }, { a: { b: 2, c: 'x' }, d: [1, 2], e: true }).map(
      formatDifference,
    ),
    ['a.b 1 → 2', 'd [1] → [1,2]', 'e (none) → true'],
  );
  assert.deepEqual(diffConfig({ a: 1 }, { a: 1 }), []);
});
