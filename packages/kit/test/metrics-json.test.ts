import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp, createMetrics, defineService } from '../src/index.ts';

const probe = defineService({
  name: 'probe',
  routes: (app) => {
    app.get('/api/ping', async () => ({ pong: true }));
  },
});

let app: FastifyInstance;
before(async () => {
  ({ app } = await buildApp(probe, { env: {} }));
  await app.inject({ url: '/api/ping' });
});
after(() => app.close());

interface MetricJson {
  name: string;
  type: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

test('/metrics answers JSON when the request accepts application/json', async () => {
  const res = await app.inject({ url: '/metrics', headers: { accept: 'application/json' } });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const metrics = res.json() as MetricJson[];
  const requests = metrics.find((m) => m.name === 'http_server_requests_total');
  assert.equal(requests?.type, 'counter');
  const ping = requests.values.find((v) => v.labels.route === '/api/ping');
  assert.deepEqual(ping?.labels, { route: '/api/ping', method: 'GET', status: '2xx', service: 'probe' });
  assert.equal(ping.value, 1);
  const duration = metrics.find((m) => m.name === 'http_server_request_duration_seconds');
  assert.equal(duration?.type, 'histogram');
  assert.ok(duration.values.some((v) => v.metricName?.endsWith('_bucket') && v.labels.le === '+Inf'));
});

test('/metrics keeps the Prometheus text format for any other Accept', async () => {
  for (const accept of [undefined, 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1']) {
    const res = await app.inject({ url: '/metrics', headers: accept ? { accept } : {} });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /^# HELP /m);
    assert.match(res.body, /http_server_requests_total\{.*route="\/api\/ping"/);
  }
});

test('with BAZAAR_REQUEST_METRICS off, requests are neither counted nor timed (the benchmark baseline)', async () => {
  const { app: quiet } = await buildApp(probe, { env: { BAZAAR_REQUEST_METRICS: 'false' } });
  try {
    await quiet.inject({ url: '/api/ping' });
    const text = (await quiet.inject({ url: '/metrics' })).body;
    assert.doesNotMatch(text, /^http_server_requests_total\{/m);
    assert.match(text, /^http_server_requests_in_flight\{/m, 'gauges stay');
    const counted = (await app.inject({ url: '/metrics' })).body;
    assert.match(counted, /^http_server_requests_total\{.*route="\/api\/ping"/m);
  } finally {
    await quiet.close();
  }
});

test('counting requests can be stopped and started again while running (the config center’s metrics.requests)', async () => {
  const metrics = createMetrics('probe');
  const { app: live } = await buildApp(probe, { env: {}, metrics });
  const pings = async () => {
    const json = (await live.inject({ url: '/metrics', headers: { accept: 'application/json' } })).json();
    const requests = (json as MetricJson[]).find((m) => m.name === 'http_server_requests_total');
    return requests?.values.find((v) => v.labels.route === '/api/ping')?.value ?? 0;
  };
  try {
    await live.inject({ url: '/api/ping' });
    assert.equal(await pings(), 1);
    metrics.countRequests = false;
    await live.inject({ url: '/api/ping' });
    await live.inject({ url: '/api/ping' });
    assert.equal(await pings(), 1, 'not counted while off');
    metrics.countRequests = true;
    await live.inject({ url: '/api/ping' });
    assert.equal(await pings(), 2, 'counted again once on');
  } finally {
    await live.close();
  }
});
