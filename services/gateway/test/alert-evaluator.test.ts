import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OpsAlertList } from '@bazaar/contracts';
import { alertRules, ManualClock } from '@bazaar/kit';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import Value from 'typebox/value';
import { samplesOf, upSample } from '../src/domain/alert-samples.ts';
import type { MetricJson } from '../src/domain/traffic.ts';
import { AlertEvaluator } from '../src/ops/alert-evaluator.ts';
import { TrafficCollector } from '../src/ops/traffic-collector.ts';
import { FakeRegistry, type Harness, instance, startHarness } from './support/ops-harness.ts';

const log = pino({ level: 'silent' });

/** A service's own metrics, as prom-client serves them: requests by status (and heartbeats, the registry's). */
function serviceMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  const requests = new Counter({
    name: 'http_server_requests_total',
    help: 'requests',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const heartbeats = new Counter({
    name: 'bazaar_registry_heartbeats_total',
    help: 'heartbeats',
    labelNames: ['outcome'],
    registers: service === 'registry' ? [registry] : [],
  });
  heartbeats.inc({ outcome: 'renewed' }, 0);
  return {
    serve(ok: number, failed: number, route = '/api/products') {
      requests.inc({ route, method: 'GET', status: '2xx' }, ok);
      requests.inc({ route, method: 'GET', status: '5xx' }, failed);
    },
    heartbeat: () => heartbeats.inc({ outcome: 'renewed' }),
    json: async () => (await registry.getMetricsAsJSON()) as unknown as MetricJson[],
  };
}

/**
 * The gateway's collector feeding an evaluator on a manual clock, a round a second, with windows
 * and `for` scaled by 0.02 (5 minutes → 6 s, 2 minutes → 2.4 s, 1 minute → 1.2 s).
 */
function system() {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00.000Z'));
  const registry = new FakeRegistry();
  const catalog = serviceMetrics('catalog');
  const registryOwn = serviceMetrics('registry');
  const failing = new Set<string>();
  registry.set([
    {
      name: 'catalog',
      instances: [
        instance({ id: 'catalog-1', service: 'catalog', host: '10.0.0.11', port: 8080 }),
        instance({ id: 'catalog-2', service: 'catalog', host: '10.0.0.12', port: 8080 }),
      ],
    },
  ]);
  const evaluator = new AlertEvaluator({
    rules: alertRules,
    timeScale: 0.02,
    intervalMs: 1_000,
    registryUrls: ['http://10.0.0.2:8761'],
    log,
    scrapeRegistry: () => registryOwn.json(),
  });
  const collector = new TrafficCollector({
    registry,
    intervalMs: 1_000,
    log,
    clock,
    // catalog-2 serves nothing; only catalog-1's counters move.
    scrape: async (i) => {
      if (failing.has(i.id)) throw new Error('connection refused');
      return i.id === 'catalog-1' ? catalog.json() : serviceMetrics('catalog').json();
    },
    onRound: (round) => evaluator.observe(round),
  });
  return {
    evaluator,
    catalog,
    registryOwn,
    failing,
    /** `n` rounds a second apart, calling `each` before every one. */
    async rounds(n: number, each: () => void = () => undefined) {
      for (let i = 0; i < n; i++) {
        each();
        clock.advance(1_000);
        await collector.collect();
      }
    },
    alerts: (state?: 'pending' | 'firing') =>
      evaluator
        .alerts()
        .items.filter((a) => state === undefined || a.state === state)
        .map((a) => `${a.name}${JSON.stringify(a.labels)}`),
  };
}

describe('samples of a target', () => {
  test("the target's labels go on every series that has none of its own", () => {
    const target = { service: 'gateway', instance: '10.0.0.1:8080', instance_id: 'gateway-1' };
    const samples = samplesOf(
      [
        {
          name: 'bazaar_client_circuit_state',
          values: [
            { value: 1, labels: { target: 'catalog', instance: '10.0.0.11:8080', service: 'gateway' } },
          ],
        },
        {
          name: 'http_server_request_duration_seconds',
          values: [
            {
              value: 3,
              metricName: 'http_server_request_duration_seconds_bucket',
              labels: { le: 0.5, route: '/x' },
            },
          ],
        },
      ],
      target,
    );
    assert.deepEqual(samples, [
      {
        name: 'bazaar_client_circuit_state',
        labels: {
          service: 'gateway',
          instance: '10.0.0.11:8080',
          instance_id: 'gateway-1',
          target: 'catalog',
        },
        value: 1,
      },
      {
        name: 'http_server_request_duration_seconds_bucket',
        labels: { ...target, le: '0.5', route: '/x' },
        value: 3,
      },
    ]);
    assert.deepEqual(upSample(target, false), { name: 'up', labels: target, value: 0 });
  });
});

describe('the embedded evaluator', () => {
  test('a service failing a fifth of its requests raises the error-rate alert, pending then firing, and it clears', async () => {
    const s = system();
    await s.rounds(3, () => {
      s.catalog.serve(80, 0);
      s.registryOwn.heartbeat();
    });
    assert.deepEqual(s.alerts(), []);
    await s.rounds(2, () => {
      s.catalog.serve(80, 20);
      s.registryOwn.heartbeat();
    });
    assert.deepEqual(s.alerts('pending'), ['BazaarHighErrorRate{"service":"catalog"}']);
    await s.rounds(3, () => {
      s.catalog.serve(80, 20);
      s.registryOwn.heartbeat();
    });
    assert.deepEqual(s.alerts('firing'), ['BazaarHighErrorRate{"service":"catalog"}']);
    const [alert] = s.evaluator.alerts().items;
    assert.equal(alert?.severity, 'page');
    assert.ok(alert.value > 0.05 && alert.value < 0.3, String(alert.value));
    // Healthy again: once the failing rounds leave the (scaled) 5-minute window, the alert is gone.
    await s.rounds(8, () => {
      s.catalog.serve(100, 0);
      s.registryOwn.heartbeat();
    });
    assert.deepEqual(s.alerts(), []);
  });

  test('an instance that stops answering its scrape is down; the registry hearing nothing alerts too', async () => {
    const s = system();
    await s.rounds(2, () => s.registryOwn.heartbeat());
    s.failing.add('catalog-2');
    await s.rounds(1, () => s.registryOwn.heartbeat());
    assert.deepEqual(s.alerts('pending'), [
      'BazaarInstanceDown{"service":"catalog","instance":"10.0.0.12:8080","instance_id":"catalog-2"}',
    ]);
    await s.rounds(2, () => s.registryOwn.heartbeat());
    assert.deepEqual(s.alerts('firing'), [
      'BazaarInstanceDown{"service":"catalog","instance":"10.0.0.12:8080","instance_id":"catalog-2"}',
    ]);
    s.failing.clear();
    await s.rounds(1);
    assert.deepEqual(s.alerts('firing'), [], 'answering again resolves it');
    // No heartbeat renewed for the (scaled) 2-minute window plus `for`.
    await s.rounds(6);
    assert.deepEqual(s.alerts('firing'), ['BazaarRegistryWithoutHeartbeats{"service":"registry"}']);
  });

  test('the list says how many rules it evaluates and when, in the shape of the contract', async () => {
    const s = system();
    assert.deepEqual(s.evaluator.alerts(), {
      items: [],
      nextCursor: null,
      rules: alertRules.length,
      evaluatedAt: null,
    });
    s.failing.add('catalog-1');
    await s.rounds(3);
    const list = s.evaluator.alerts();
    assert.ok(Value.Check(OpsAlertList, list), JSON.stringify([...Value.Errors(OpsAlertList, list)]));
    assert.equal(list.evaluatedAt, '2025-01-01T00:00:03.000Z');
    assert.equal(list.items[0]?.activeSince, '2025-01-01T00:00:01.000Z');
  });
});

describe('GET /api/ops/alerts', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  test('admins read the alert list; anyone else is refused', async () => {
    const app = await harness.gateway(new FakeRegistry(), { BAZAAR_ALERT_TIME_SCALE: '0.5' });
    try {
      const res = await app.inject({ url: '/api/ops/alerts', headers: await harness.bearer('admin') });
      assert.equal(res.statusCode, 200);
      const body = res.json() as OpsAlertList;
      assert.equal(body.rules, alertRules.length);
      assert.ok(Array.isArray(body.items));
      assert.equal((await app.inject({ url: '/api/ops/alerts' })).statusCode, 401);
      const customer = await app.inject({
        url: '/api/ops/alerts',
        headers: await harness.bearer('customer'),
      });
      assert.equal(customer.statusCode, 403);
    } finally {
      await app.close();
    }
  });

  test('a time scale outside (0, 1] is refused at start', async () => {
    await assert.rejects(
      harness.gateway(new FakeRegistry(), { BAZAAR_ALERT_TIME_SCALE: '0' }),
      /ALERT_TIME_SCALE/,
    );
  });
});
