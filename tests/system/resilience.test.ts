/**
 * The foundation under faults, on real processes and the embedded PostgreSQL: balancing across
 * instances, kill -9, kill -STOP, the registry going away, deadlines and open circuits. The tests
 * share one running system and run in order.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { System } from '../../packages/cli/src/system.ts';
import { steadyReads } from '../support/load.ts';
import { waitFor } from '../support/ports.ts';
import { alive, registryService, sampleSum, setChaos, startTestSystem } from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
const catalogSlots = ['catalog-1', 'catalog-2'];

before(async () => {
  handle = await startTestSystem();
  system = handle.system;
});
after(async () => {
  const pids = system.supervisor.slots().map((s) => system.supervisor.pid(s));
  await handle?.stop();
  assert.deepEqual(
    pids.filter((pid) => alive(pid)),
    [],
    'no process is left behind',
  );
});

const info = (slot: string) => system.supervisor.info(slot);
const served = (slot: string) =>
  sampleSum(info(slot).url!, 'http_server_requests_total', { route: '/api/products' });

async function instanceStatus(id: string): Promise<string> {
  const catalog = await registryService(system, 'catalog');
  return catalog.instances.find((i) => i.id === id)?.status ?? 'gone';
}

async function reads(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${system.gatewayUrl}/api/products?limit=2`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
}

describe('balancing', () => {
  test('requests through the gateway reach both catalog instances', async () => {
    const before = await Promise.all(catalogSlots.map(served));
    await reads(40);
    const after = await Promise.all(catalogSlots.map(served));
    for (const [i, slot] of catalogSlots.entries()) {
      assert.ok(after[i]! - before[i]! >= 5, `${slot} served ${after[i]! - before[i]!} of 40`);
    }
  });

  test('a search through the gateway returns matching products', async () => {
    const res = await fetch(`${system.gatewayUrl}/api/products?q=coffee`);
    assert.equal(res.status, 200);
    const page = (await res.json()) as { items: { name: string; description: string }[] };
    assert.ok(page.items.length >= 2);
    for (const p of page.items) assert.match(`${p.name} ${p.description}`, /coffee/i);
  });
});

describe('what operators see', () => {
  test("the OpenAPI document merges the services' routes, and /api/docs reads it", async () => {
    const doc = (await (await fetch(`${system.gatewayUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const path of ['/api/products', '/api/products/{id}', '/api/categories', '/api/ops/services']) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    assert.ok(doc.components.schemas.Product, 'shared schemas keep their names');
    assert.equal(doc.paths['/health/ready'], undefined);
    const docs = await fetch(`${system.gatewayUrl}/api/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    assert.equal((await fetch(`${system.gatewayUrl}/api/docs/assets/swagger-ui-bundle.js`)).status, 200);
  });

  test('/api/ops/services shows every instance with its status and circuit', async () => {
    await reads(4);
    const admin = system.bootstrapUsers!.users.admin;
    const login = await fetch(`${system.gatewayUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: admin.email, password: admin.password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const anonymous = await fetch(`${system.gatewayUrl}/api/ops/services`);
    assert.equal(anonymous.status, 401, 'operators only');
    const ops = await fetch(`${system.gatewayUrl}/api/ops/services`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const body = (await ops.json()) as {
      items: { name: string; instances: { id: string; status: string; circuit: string | null }[] }[];
      nextCursor: null;
    };
    const catalog = body.items.find((s) => s.name === 'catalog');
    assert.equal(catalog?.instances.filter((i) => i.status === 'up').length, 2);
    assert.ok(catalog?.instances.every((i) => i.circuit === 'closed'));
    assert.equal(body.nextCursor, null);
  });

  test("the gateway's /metrics counts client calls, circuits and requests by route", async () => {
    const url = info('gateway-1').url!;
    assert.ok(
      (await sampleSum(url, 'bazaar_client_calls_total', { target: 'catalog', outcome: 'success' })) > 0,
    );
    assert.ok(
      (await sampleSum(url, 'http_server_requests_total', { route: '/api/products', status: '2xx' })) > 0,
    );
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /bazaar_client_circuit_state\{[^}]*target="catalog"/);
    assert.match(text, /http_server_request_duration_seconds_bucket/);
    assert.match(text, /http_server_requests_in_flight/);
  });
});

describe('crashes and pauses', () => {
  test('kill -9 of a catalog instance under steady reads fails no read; it is evicted within 7 s and its restart gets traffic', async () => {
    const victim = info('catalog-1');
    const load = steadyReads(`${system.gatewayUrl}/api/products?limit=2`, { concurrency: 4 });
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    const evicted = await waitFor('the dead instance to leave the registry', async () =>
      (await instanceStatus(victim.instanceId!)) !== 'up' ? true : undefined,
    );
    const evictedAfter = Date.now() - killedAt;
    const restarted = await waitFor('the restarted instance to register', async () => {
      const now = info('catalog-1');
      if (now.instanceId === victim.instanceId || now.state !== 'ready') return undefined;
      return (await instanceStatus(now.instanceId!)) === 'up' ? now : undefined;
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const report = await load.stop();
    assert.equal(report.failed, 0, `failed reads: ${JSON.stringify(report.failures.slice(0, 5))}`);
    assert.ok(report.ok > 100, `only ${report.ok} reads were made`);
    assert.ok(evictedAfter <= 7_000, `evicted after ${evictedAfter} ms (${evicted.ms} ms of polling)`);
    const before = await served('catalog-1');
    await reads(20);
    assert.ok(
      (await served('catalog-1')) - before >= 3,
      `restarted ${restarted.value.instanceId} gets traffic again`,
    );
  });

  test('kill -STOP of an instance: reads keep succeeding, it is evicted within 7 s, and after kill -CONT it registers again', async () => {
    const victim = info('catalog-2');
    const load = steadyReads(`${system.gatewayUrl}/api/products?limit=2`, { concurrency: 4 });
    await new Promise((r) => setTimeout(r, 300));
    const stoppedAt = Date.now();
    process.kill(victim.pid!, 'SIGSTOP');
    try {
      await waitFor('the paused instance to be evicted', async () =>
        (await instanceStatus(victim.instanceId!)) === 'down' ? true : undefined,
      );
      const evictedAfter = Date.now() - stoppedAt;
      assert.ok(evictedAfter <= 7_000, `evicted after ${evictedAfter} ms`);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      process.kill(victim.pid!, 'SIGCONT');
    }
    await waitFor('the resumed instance to register again', async () =>
      (await instanceStatus(victim.instanceId!)) === 'up' ? true : undefined,
    );
    const report = await load.stop();
    assert.equal(report.failed, 0, `failed reads: ${JSON.stringify(report.failures.slice(0, 5))}`);
    assert.equal(info('catalog-2').pid, victim.pid, 'the same process came back');
  });

  test('with the registry killed, reads flow from the cache; restarted, it lists every instance again without restarting them', async () => {
    const pidsBefore = catalogSlots.map((s) => info(s).pid);
    const idsBefore = (await registryService(system, 'catalog')).instances
      .filter((i) => i.status === 'up')
      .map((i) => i.id);
    system.supervisor.hold('registry-1');
    process.kill(info('registry-1').pid!, 'SIGKILL');
    await waitFor('the registry to be gone', async () => {
      try {
        await fetch(`${system.registryUrl}/v1/services`);
        return undefined;
      } catch {
        return true;
      }
    });
    const load = steadyReads(`${system.gatewayUrl}/api/products?limit=2`, { concurrency: 4 });
    await new Promise((r) => setTimeout(r, 8_000)); // longer than a lease: nothing may be forgotten meanwhile
    system.supervisor.release('registry-1');
    await system.supervisor.waitReady('registry-1', 30_000);
    const back = await waitFor('every instance to be listed up again', async () => {
      const up = (await registryService(system, 'catalog')).instances
        .filter((i) => i.status === 'up')
        .map((i) => i.id);
      return idsBefore.every((id) => up.includes(id)) ? up : undefined;
    });
    const report = await load.stop();
    assert.equal(report.failed, 0, `failed reads: ${JSON.stringify(report.failures.slice(0, 5))}`);
    assert.ok(report.ok > 100);
    assert.deepEqual(
      catalogSlots.map((s) => info(s).pid),
      pidsBefore,
      'no catalog instance was restarted',
    );
    assert.deepEqual(back.value.sort(), idsBefore.sort());
  });
});

describe('deadlines and circuits', () => {
  test('a catalog slowed past the deadline gives 504 problem+json within the deadline plus 500 ms, and the catalog skips the late work', async () => {
    const credential = system.credentials.catalog!;
    const skippedBefore = await Promise.all(
      catalogSlots.map((s) => sampleSum(info(s).url!, 'bazaar_deadline_exceeded_total')),
    );
    await Promise.all(catalogSlots.map((s) => setChaos(info(s).url!, credential, { delayMs: 1_500 })));
    try {
      const started = Date.now();
      const res = await fetch(`${system.gatewayUrl}/api/products/00000000-0000-4000-8000-000000000001`);
      const took = Date.now() - started;
      assert.equal(res.status, 504);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(((await res.json()) as { code: string }).code, 'DEADLINE_EXCEEDED');
      assert.ok(took <= 5_000 + 500, `answered after ${took} ms`);
      await waitFor('the catalog to count work it did not start', async () => {
        const now = await Promise.all(
          catalogSlots.map((s) => sampleSum(info(s).url!, 'bazaar_deadline_exceeded_total')),
        );
        return now.some((n, i) => n > skippedBefore[i]!) ? true : undefined;
      });
    } finally {
      await Promise.all(catalogSlots.map((s) => setChaos(info(s).url!, credential, {})));
    }
  });

  test('every catalog instance failing: the gateway answers 503 at once (circuit open) and recovers by itself', async () => {
    const credential = system.credentials.catalog!;
    await Promise.all(catalogSlots.map((s) => setChaos(info(s).url!, credential, { errorRate: 1 })));
    let fastUnavailable: { ms: number; retryAfter: string | null; code: string } | undefined;
    try {
      // The breaker samples 10 s: earlier tests' successes may still be in its window, so failures
      // dominate only once they age out. Keep failing calls coming for longer than the window.
      const until = Date.now() + 25_000;
      while (Date.now() < until && !fastUnavailable) {
        const started = Date.now();
        const res = await fetch(`${system.gatewayUrl}/api/products?limit=1`);
        const body = (await res.json()) as { code: string };
        const ms = Date.now() - started;
        if (res.status === 503 && ms < 100)
          fastUnavailable = { ms, retryAfter: res.headers.get('retry-after'), code: body.code };
      }
    } finally {
      await Promise.all(catalogSlots.map((s) => setChaos(info(s).url!, credential, {})));
    }
    assert.ok(fastUnavailable, 'the gateway stopped calling the failing instances');
    assert.equal(fastUnavailable.code, 'SERVICE_UNAVAILABLE');
    assert.ok(Number(fastUnavailable.retryAfter) >= 1, 'Retry-After is set');
    const recovered = await waitFor(
      'reads to succeed again',
      async () =>
        (await fetch(`${system.gatewayUrl}/api/products?limit=1`)).status === 200 ? true : undefined,
      { timeoutMs: 20_000, everyMs: 250 },
    );
    assert.ok(recovered.ms < 20_000);
  });
});

describe('bad input answers problem+json and changes nothing', () => {
  const problem = async (res: Response, status: number, code: string) => {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const body = (await res.json()) as { code: string; errors?: { path: string }[] };
    assert.equal(body.code, code);
    return body;
  };

  test('unknown route 404', async () => {
    await problem(await fetch(`${system.gatewayUrl}/api/nothing-here`), 404, 'ROUTE_NOT_FOUND');
  });

  test('limit=1000 and limit=abc are 400 with field errors', async () => {
    for (const limit of ['1000', 'abc']) {
      const body = await problem(
        await fetch(`${system.gatewayUrl}/api/products?limit=${limit}`),
        400,
        'VALIDATION_FAILED',
      );
      assert.ok(body.errors?.some((e) => e.path.endsWith('limit')));
    }
  });

  test('a 70 KiB body is 413 and malformed JSON is 400', async () => {
    const big = await fetch(`${system.gatewayUrl}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(70 * 1024) }),
    });
    await problem(big, 413, 'PAYLOAD_TOO_LARGE');
    const malformed = await fetch(`${system.gatewayUrl}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    await problem(malformed, 400, 'MALFORMED_JSON');
  });

  test('registration without a credential is 401', async () => {
    const res = await fetch(`${system.registryUrl}/v1/instances/intruder-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'catalog', host: '127.0.0.1', port: 1, version: '1' }),
    });
    await problem(res, 401, 'CREDENTIAL_REQUIRED');
    const catalog = await registryService(system, 'catalog');
    assert.ok(!catalog.instances.some((i) => i.id === 'intruder-1'));
  });

  test('headers over 16 KiB are 431 problem+json', async () => {
    const res = await fetch(`${system.gatewayUrl}/api/products`, {
      headers: { 'x-padding': 'y'.repeat(20 * 1024) },
    });
    await problem(res, 431, 'HEADERS_TOO_LARGE');
  });

  test('every process is still running after all of it', async () => {
    for (const slot of system.supervisor.slots()) assert.ok(alive(info(slot).pid), `${slot} is alive`);
  });
});

describe('start-up', () => {
  test('two catalog instances starting together on an empty database both come up, the schema applied and seeded once', async () => {
    await system.cluster.ensureDatabase('catalog_together');
    const url = system.cluster.url('catalog_together');
    const children: ChildProcess[] = [];
    try {
      const ready = [0, 1].map(
        () =>
          new Promise<{ instanceId: string; url: string }>((resolve, reject) => {
            const child = spawn(process.execPath, ['services/catalog/src/main.ts'], {
              stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
              env: {
                ...process.env,
                BAZAAR_HOST: '127.0.0.1',
                BAZAAR_PORT: '0',
                BAZAAR_DATABASE_URL: url,
                BAZAAR_REGISTRY_URL: system.registryUrl,
                BAZAAR_SERVICE_CREDENTIAL: system.credentials.catalog,
                BAZAAR_LOG_LEVEL: 'warn',
              },
            });
            children.push(child);
            let stderr = '';
            child.stderr?.on('data', (d) => {
              stderr += d;
            });
            child.on('message', (m: { type?: string; instanceId: string; url: string }) => {
              if (m.type === 'bazaar:ready') resolve(m);
            });
            child.on('exit', (code) => reject(new Error(`catalog exited ${code}: ${stderr}`)));
          }),
      );
      const [a, b] = await Promise.all(ready);
      assert.notEqual(a!.instanceId, b!.instanceId);
      for (const instance of [a!, b!]) {
        assert.equal((await fetch(`${instance.url}/health/ready`)).status, 200);
      }
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const migrations = await client.query(
          'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version',
        );
        assert.ok(migrations.rows.length >= 1);
        assert.ok(migrations.rows.every((r) => Number(r.n) === 1));
        const products = await client.query('SELECT count(*) AS n FROM products');
        assert.ok(Number(products.rows[0].n) >= 60, 'seeded');
        const names = await client.query(
          'SELECT count(*) AS n FROM (SELECT name FROM products GROUP BY name HAVING count(*) > 1) d',
        );
        assert.equal(Number(names.rows[0].n), 0, 'seeded once');
      } finally {
        await client.end();
      }
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
      );
    }
  });
});

describe('logs', () => {
  test('log lines are JSON carrying service, instance, request id and the trace id of the caller', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${system.gatewayUrl}/api/categories`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-request-id': 'log-check-1' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'log-check-1');
    const line = await waitFor('the access log line', async () => {
      const text = await readFile(join(system.logDir, 'gateway-1.jsonl'), 'utf8');
      return text.split('\n').find((l) => l.includes('log-check-1'));
    });
    const entry = JSON.parse(line.value) as Record<string, unknown>;
    assert.equal(entry.service, 'gateway');
    assert.equal(entry.instance, info('gateway-1').instanceId);
    assert.equal(entry.reqId, 'log-check-1');
    assert.equal(entry.traceId, traceId);
  });
});
