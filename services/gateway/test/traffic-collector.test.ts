import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { Instance } from '@bazaar/contracts';
import { buildApp, defineService, ManualClock } from '@bazaar/kit';
import pino from 'pino';
import type { MetricJson } from '../src/domain/traffic.ts';
import { TrafficCollector } from '../src/ops/traffic-collector.ts';
import { FakeRegistry, instance } from './support/ops-harness.ts';

const log = pino({ level: 'silent' });
const INF = '+Inf';

/** prom-client JSON of an instance that served `requests` (of which `errors` 5xx), each in `le`. */
function served(requests: number, errors: number, le: number): MetricJson[] {
  const bounds = [0.01, 0.1, 1];
  const bucket = (status: string, count: number) =>
    [...bounds, INF].map((b) => ({
      value: b === INF || (b as number) >= le ? count : 0,
      metricName: 'http_server_request_duration_seconds_bucket',
      labels: { le: b, route: '/api/x', method: 'GET', status },
    }));
  return [
    {
      name: 'http_server_requests_total',
      values: [
        { value: requests - errors, labels: { route: '/api/x', method: 'GET', status: '2xx' } },
        { value: errors, labels: { route: '/api/x', method: 'GET', status: '5xx' } },
      ],
    },
    {
      name: 'http_server_request_duration_seconds',
      values: [...bucket('2xx', requests - errors), ...bucket('5xx', errors)],
    },
  ];
}

/** A collector over `registry` whose scrapes answer from `answers` (by instance id), on a manual clock. */
function collectorOf(registry: FakeRegistry, answers: Map<string, MetricJson[] | Error>) {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00.000Z'));
  const collector = new TrafficCollector({
    registry,
    intervalMs: 5_000,
    log,
    clock,
    scrape: async (i) => {
      const answer = answers.get(i.id);
      if (!answer || answer instanceof Error) throw answer ?? new Error('no answer');
      return answer;
    },
  });
  return { collector, clock };
}

describe('traffic collector', () => {
  test('a first scrape only sets the baseline; the next gives a point of what was served since', async () => {
    const registry = new FakeRegistry();
    registry.set([{ name: 'catalog', instances: [instance({ id: 'c1', service: 'catalog' })] }]);
    const answers = new Map<string, MetricJson[] | Error>([['c1', served(100, 0, 0.05)]]);
    const { collector, clock } = collectorOf(registry, answers);
    await collector.collect();
    assert.deepEqual(collector.metrics(900).items, []);
    clock.advance(5_000);
    answers.set('c1', served(150, 10, 0.05));
    await collector.collect();
    const metrics = collector.metrics(900);
    assert.equal(metrics.stepSeconds, 5);
    assert.equal(metrics.windowSeconds, 900);
    assert.deepEqual(metrics.items, [
      {
        service: 'catalog',
        points: [{ at: '2025-01-01T00:00:05.000Z', requestRate: 10, errorRate: 0.2, p50Ms: 55, p99Ms: 99.1 }],
      },
    ]);
  });

  test('instances of a service add up; one that fails is skipped that round; a restart counts from 0', async () => {
    const registry = new FakeRegistry();
    registry.set([
      {
        name: 'catalog',
        instances: [
          instance({ id: 'c1', service: 'catalog' }),
          instance({ id: 'c2', service: 'catalog' }),
          instance({ id: 'gone', service: 'catalog', status: 'down' }),
        ],
      },
      { name: 'orders', instances: [instance({ id: 'o1', service: 'orders' })] },
    ]);
    const answers = new Map<string, MetricJson[] | Error>([
      ['c1', served(0, 0, 0.005)],
      ['c2', served(0, 0, 0.005)],
      ['o1', served(10, 0, 0.5)],
      ['gone', served(1_000_000, 0, 0.5)],
    ]);
    const { collector, clock } = collectorOf(registry, answers);
    await collector.collect();
    clock.advance(5_000);
    answers.set('c1', served(50, 0, 0.005));
    answers.set('c2', served(25, 0, 0.005));
    answers.set('o1', new Error('timeout'));
    await collector.collect();
    clock.advance(5_000);
    answers.set('c1', served(5, 5, 0.005)); // restarted: 5 requests, all failed
    answers.set('c2', served(25, 0, 0.005));
    answers.set('o1', served(110, 0, 0.5)); // 100 over the 10 s since its last answer
    await collector.collect();
    const byService = Object.fromEntries(
      collector.metrics(900).items.map((s) => [s.service, s.points.map((p) => [p.requestRate, p.errorRate])]),
    );
    assert.deepEqual(byService, {
      catalog: [
        [15, 0],
        [1, 1],
      ],
      orders: [[10, 0]],
    });
  });

  test('the window and the service narrow the answer; an unknown service has no series', async () => {
    const registry = new FakeRegistry();
    registry.set([{ name: 'catalog', instances: [instance({ id: 'c1', service: 'catalog' })] }]);
    const answers = new Map<string, MetricJson[] | Error>([['c1', served(0, 0, 0.05)]]);
    const { collector, clock } = collectorOf(registry, answers);
    for (let round = 0; round <= 30; round++) {
      answers.set('c1', served(round * 10, 0, 0.05));
      await collector.collect();
      clock.advance(5_000);
    }
    assert.equal(collector.metrics(60, 'catalog').items[0]!.points.length, 12);
    assert.equal(collector.metrics(900, 'catalog').items[0]!.points.length, 30);
    assert.deepEqual(collector.metrics(900, 'nothing').items, []);
  });

  test('an hour of points is kept; a service quiet for an hour is forgotten', async () => {
    const registry = new FakeRegistry();
    registry.set([{ name: 'catalog', instances: [instance({ id: 'c1', service: 'catalog' })] }]);
    const answers = new Map<string, MetricJson[] | Error>([['c1', served(0, 0, 0.05)]]);
    const { collector, clock } = collectorOf(registry, answers);
    for (let round = 0; round < 800; round++) {
      await collector.collect();
      clock.advance(5_000);
    }
    assert.equal(collector.metrics(3600).items[0]!.points.length, 720);
    registry.set([]);
    clock.advance(60 * 60 * 1000);
    await collector.collect();
    assert.deepEqual(collector.metrics(3600).items, []);
  });

  test('scrapes a real instance over HTTP, asking for JSON; its own /metrics and health samples do not count', async () => {
    const probe = defineService({
      name: 'probe',
      routes: (app) => {
        app.get('/api/ping', async () => ({ pong: true }));
        app.get('/api/fail', async (_request, reply) => reply.code(503).send({ down: true }));
      },
    });
    const { app } = await buildApp(probe, { env: {} });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const registry = new FakeRegistry();
    const probeInstance: Instance = instance({ id: 'p1', service: 'probe', port });
    registry.set([{ name: 'probe', instances: [probeInstance] }]);
    const collector = new TrafficCollector({ registry, intervalMs: 60_000, log, clock: { now: Date.now } });
    try {
      await collector.collect();
      for (let i = 0; i < 3; i++) await app.inject({ url: '/api/ping' });
      await app.inject({ url: '/api/fail' });
      await app.inject({ url: '/health/live' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await collector.collect();
      const [series] = collector.metrics(60).items;
      assert.equal(series?.service, 'probe');
      const [point] = series.points;
      assert.equal(point?.errorRate, 0.25);
      assert.ok(point.requestRate > 0);
      assert.ok(point.p50Ms !== null && point.p50Ms > 0);
    } finally {
      collector.stop();
      await app.close();
    }
  });

  test('an instance that does not answer is skipped, and the round still ends', async () => {
    const registry = new FakeRegistry();
    registry.set([{ name: 'ghost', instances: [instance({ id: 'g1', service: 'ghost', port: 9 })] }]);
    const collector = new TrafficCollector({ registry, intervalMs: 60_000, log, clock: { now: Date.now } });
    await collector.collect();
    await collector.collect();
    assert.deepEqual(collector.metrics(60).items, []);
  });

  test('started, it scrapes every interval until stopped', async () => {
    const registry = new FakeRegistry();
    registry.set([{ name: 'catalog', instances: [instance({ id: 'c1', service: 'catalog' })] }]);
    let scrapes = 0;
    const collector = new TrafficCollector({
      registry,
      intervalMs: 100,
      log,
      clock: { now: Date.now },
      scrape: async () => {
        scrapes++;
        return served(scrapes * 10, 0, 0.05);
      },
    });
    collector.start();
    await new Promise((resolve) => setTimeout(resolve, 450));
    collector.stop();
    const seen = scrapes;
    assert.ok(seen >= 3, `${seen} scrapes`);
    assert.ok(collector.metrics(60).items[0]!.points.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(scrapes, seen, 'no scrape after stop');
  });
});
