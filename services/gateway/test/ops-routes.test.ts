import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { OpsMetrics, OpsServiceList } from '@bazaar/contracts';
import { buildApp, defineService, requireRole, sleep } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { request } from 'undici';
import { TrafficCollector } from '../src/ops/traffic-collector.ts';
import { opsRoutes } from '../src/routes/ops.ts';
import { FakeRegistry, type Harness, instance, startHarness } from './support/ops-harness.ts';

let harness: Harness;
before(async () => {
  harness = await startHarness();
});
after(() => harness.close());

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as { code: string; detail: string };
  assert.equal(body.code, code);
  return body;
}

describe('GET /api/ops/services', () => {
  test('lists instances with the gateway’s view, and says whether instances can be killed', async () => {
    const catalogAddress = '127.0.0.1:9';
    harness.source.set('catalog', [catalogAddress]);
    const registry = new FakeRegistry();
    registry.set([
      {
        name: 'catalog',
        instances: [instance({ id: 'catalog-0-9', service: 'catalog', port: 9, metadata: { pid: '1' } })],
      },
      {
        name: 'probe',
        instances: [
          instance({
            id: 'probe-1',
            service: 'probe',
            status: 'draining',
            config: { version: 4, error: 'version 5 not applied: values/x is not an accepted field' },
          }),
        ],
      },
    ]);
    for (const [env, killable] of [
      [{}, false],
      [{ BAZAAR_EMBEDDED: '1' }, true],
    ] as const) {
      const app = await harness.gateway(registry, env);
      try {
        const res = await app.inject({ url: '/api/ops/services', headers: await harness.bearer('admin') });
        assert.equal(res.statusCode, 200);
        const body = res.json() as OpsServiceList;
        assert.equal(body.killable, killable);
        assert.equal(body.registryConnected, true);
        assert.equal(body.nextCursor, null);
        assert.deepEqual(
          body.items.map((s) => s.name),
          ['catalog', 'probe'],
        );
        const [catalog] = body.items[0]!.instances;
        assert.equal(catalog?.circuit, 'closed');
        assert.equal(catalog.ejected, false);
        assert.equal(catalog.inflight, 0);
        assert.equal(catalog.killable, killable, 'an up instance with a pid may be killed in embedded mode');
        assert.deepEqual(Object.keys(catalog).sort(), [
          'circuit',
          'config',
          'ejected',
          'host',
          'id',
          'inflight',
          'killable',
          'lastHeartbeatAt',
          'latencyMs',
          'port',
          'status',
          'version',
        ]);
        const probe = body.items[1]!.instances[0]!;
        assert.equal(probe.status, 'draining');
        assert.equal(probe.circuit, null, 'the gateway does not call probe');
        assert.equal(probe.latencyMs, null);
        assert.equal(catalog.config, null, 'no live config reported yet');
        assert.deepEqual(probe.config, {
          version: 4,
          error: 'version 5 not applied: values/x is not an accepted field',
        });
      } finally {
        await app.close();
      }
    }
  });
});

describe('GET /api/ops/metrics', () => {
  let probe: FastifyInstance;
  let app: FastifyInstance;
  before(async () => {
    ({ app: probe } = await buildApp(
      defineService({
        name: 'probe',
        routes: (a) => {
          a.get('/api/ping', async () => ({ pong: true }));
        },
      }),
      { env: {} },
    ));
    await probe.listen({ host: '127.0.0.1', port: 0 });
    const registry = new FakeRegistry();
    const port = (probe.server.address() as AddressInfo).port;
    registry.set([{ name: 'probe', instances: [instance({ id: 'probe-1', service: 'probe', port })] }]);
    app = await harness.gateway(registry, { BAZAAR_OPS_SCRAPE_MS: '100' });
  });
  after(async () => {
    await app.close();
    await probe.close();
  });

  test('series of every service, from scraping their instances', async () => {
    const headers = await harness.bearer('admin');
    let metrics: OpsMetrics | undefined;
    for (let i = 0; i < 40 && !(metrics?.items[0]?.points ?? []).some((p) => p.requestRate > 0); i++) {
      await probe.inject({ url: '/api/ping' });
      await sleep(50);
      metrics = (await app.inject({ url: '/api/ops/metrics', headers })).json() as OpsMetrics;
    }
    assert.equal(metrics?.stepSeconds, 0.1);
    assert.equal(metrics.windowSeconds, 900);
    assert.equal(metrics.items[0]?.service, 'probe');
    const busy = metrics.items[0].points.find((p) => p.requestRate > 0);
    assert.ok(busy, 'a point with traffic');
    assert.equal(busy.errorRate, 0);
    assert.ok(busy.p50Ms !== null && busy.p99Ms !== null);
    assert.ok(!Number.isNaN(Date.parse(busy.at)));
  });

  test('one service, or an unknown one; the window is 60–3600 s', async () => {
    const headers = await harness.bearer('admin');
    const one = (await app.inject({ url: '/api/ops/metrics?service=probe&window=60', headers })).json();
    assert.equal((one as OpsMetrics).windowSeconds, 60);
    assert.deepEqual(
      (one as OpsMetrics).items.map((s) => s.service),
      ['probe'],
    );
    const none = await app.inject({ url: '/api/ops/metrics?service=nothing', headers });
    assert.equal(none.statusCode, 200);
    assert.deepEqual((none.json() as OpsMetrics).items, []);
    for (const window of ['59', '3601', 'soon']) {
      const body = assertProblem(
        await app.inject({ url: `/api/ops/metrics?window=${window}`, headers }),
        400,
        'VALIDATION_FAILED',
      );
      assert.ok(body);
    }
  });

  test('admins only', async () => {
    assertProblem(await app.inject({ url: '/api/ops/metrics' }), 401, 'UNAUTHORIZED');
    assertProblem(
      await app.inject({ url: '/api/ops/metrics', headers: await harness.bearer('merchant') }),
      403,
      'FORBIDDEN',
    );
  });
});

/** Reads server-sent events from a streaming body, one `{event, data}` (or comment) at a time. */
async function* events(body: AsyncIterable<Buffer>) {
  let buffered = '';
  for await (const chunk of body) {
    buffered += chunk.toString('utf8');
    let end = buffered.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      yield {
        event,
        data: data === undefined ? undefined : JSON.parse(data),
        comment: frame.startsWith(':'),
      };
      end = buffered.indexOf('\n\n');
    }
  }
}

describe('GET /api/ops/watch', () => {
  let app: FastifyInstance;
  let registry: FakeRegistry;
  let origin: string;
  before(async () => {
    registry = new FakeRegistry();
    registry.set([{ name: 'probe', instances: [instance({ id: 'probe-1', service: 'probe' })] }]);
    app = await harness.gateway(registry, { BAZAAR_DEFAULT_DEADLINE_MS: '200' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('streams the list at once and after registry changes (a burst as one), outliving the deadline', async () => {
    const listeners = registry.listenerCount('change');
    const res = await request(`${origin}/api/ops/watch`, { headers: await harness.bearer('admin') });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const stream = events(res.body);
    const first = (await stream.next()).value!;
    assert.equal(first.event, 'services');
    assert.deepEqual(
      (first.data as OpsServiceList).items.map((s) => s.name),
      ['probe'],
    );
    assert.equal(registry.listenerCount('change'), listeners + 1);
    await sleep(300); // past the 200 ms deadline: the stream is not cut
    const sentAt = Date.now();
    registry.set([
      { name: 'probe', instances: [instance({ id: 'probe-1', service: 'probe' })] },
      { name: 'catalog', instances: [] },
    ]);
    registry.emit('change', 'catalog');
    registry.emit('change', 'catalog');
    const second = (await stream.next()).value!;
    assert.ok(Date.now() - sentAt < 1_000, 'sent on change, not on the 5 s refresh');
    assert.deepEqual(
      (second.data as OpsServiceList).items.map((s) => s.name),
      ['probe', 'catalog'],
    );
    res.body.destroy();
    for (let i = 0; i < 50 && registry.listenerCount('change') > listeners; i++) await sleep(20);
    assert.equal(registry.listenerCount('change'), listeners, 'a client that leaves is forgotten');
  });

  test('admins only', async () => {
    const anonymous = await request(`${origin}/api/ops/watch`);
    assert.equal(anonymous.statusCode, 401);
    await anonymous.body.dump();
    const customer = await request(`${origin}/api/ops/watch`, { headers: await harness.bearer('customer') });
    assert.equal(customer.statusCode, 403);
    await customer.body.dump();
  });

  test('closing the gateway ends open streams', async () => {
    const other = await harness.gateway(registry);
    await other.listen({ host: '127.0.0.1', port: 0 });
    const port = (other.server.address() as AddressInfo).port;
    const res = await request(`http://127.0.0.1:${port}/api/ops/watch`, {
      headers: await harness.bearer('admin'),
    });
    const stream = events(res.body);
    assert.equal((await stream.next()).value?.event, 'services');
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 2_000, 'close did not wait for the stream');
    for await (const _ of stream) {
      // drain what is left: the stream ends
    }
  });
});

describe('POST /api/ops/instances/:id/kill', () => {
  const kill = async (app: FastifyInstance, id: string, role: 'admin' | 'customer' = 'admin') =>
    app.inject({ method: 'POST', url: `/api/ops/instances/${id}/kill`, headers: await harness.bearer(role) });

  test('outside embedded mode it does not exist', async () => {
    const registry = new FakeRegistry();
    registry.set([
      { name: 'probe', instances: [instance({ id: 'p1', service: 'probe', metadata: { pid: '1' } })] },
    ]);
    const app = await harness.gateway(registry);
    try {
      const body = assertProblem(await kill(app, 'p1'), 404, 'NOT_FOUND');
      assert.match(body.detail, /only available in embedded mode/);
      assertProblem(await kill(app, 'p1', 'customer'), 403, 'FORBIDDEN');
    } finally {
      await app.close();
    }
  });

  test('in embedded mode: unknown instances are 404; processes not of the supervisor, or the gateway, are 409', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const registry = new FakeRegistry();
    registry.set([
      {
        name: 'probe',
        instances: [
          instance({ id: 'child', service: 'probe', metadata: { pid: String(child.pid) } }),
          instance({ id: 'self', service: 'probe', metadata: { pid: String(process.pid) } }),
          instance({ id: 'nameless', service: 'probe', metadata: {} }),
        ],
      },
    ]);
    const app = await harness.gateway(registry, { BAZAAR_EMBEDDED: '1' });
    try {
      assertProblem(await kill(app, 'nobody'), 404, 'INSTANCE_NOT_FOUND');
      // The child's parent is this test, not the process that started this test.
      assert.match(assertProblem(await kill(app, 'child'), 409, 'INVALID_STATE').detail, /supervisor/);
      assert.match(assertProblem(await kill(app, 'self'), 409, 'INVALID_STATE').detail, /itself/);
      assertProblem(await kill(app, 'nameless'), 409, 'INVALID_STATE');
      assert.equal(child.exitCode, null, 'nothing was killed');
    } finally {
      child.kill();
      await app.close();
    }
  });

  test('a sibling process is sent SIGKILL: 202 {id, pid}, and a warning names the admin', async () => {
    const registry = new FakeRegistry();
    registry.set([
      { name: 'probe', instances: [instance({ id: 'p1', service: 'probe', metadata: { pid: '4242' } })] },
    ]);
    const killed: number[] = [];
    const lines: { msg: string; by?: string; pid?: number }[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    // The gateway's own processes cannot have a sibling in a test: its routes, over a fake machine.
    const { app } = await buildApp(
      defineService({
        name: 'ops-probe',
        auth: true,
        routes: (scope, ctx) => {
          scope.addHook('preHandler', async (request) => {
            requireRole(request, 'admin');
          });
          opsRoutes(scope, {
            registry,
            routed: [],
            client: ctx.client,
            embedded: true,
            traffic: new TrafficCollector({ registry, intervalMs: 5_000, log: ctx.log, clock: ctx.clock }),
            processes: {
              pid: 100,
              ppid: 10,
              parentOf: (pid) => (pid === 4242 ? 10 : undefined),
              kill: (pid) => {
                killed.push(pid);
              },
            },
          });
        },
      }),
      { env: { BAZAAR_IDENTITY_URL: harness.identity.url }, log },
    );
    try {
      const res = await kill(app, 'p1');
      assert.equal(res.statusCode, 202);
      assert.deepEqual(res.json(), { id: 'p1', pid: 4242 });
      assert.deepEqual(killed, [4242]);
      const warning = lines.find((l) => l.msg === 'instance killed from the ops console');
      assert.equal(warning?.pid, 4242);
      assert.match(String(warning.by), /^[0-9a-f-]{36}$/);
    } finally {
      await app.close();
    }
  });
});
