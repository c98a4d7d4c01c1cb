/**
 * The embedded trace collector through the gateway app: the OTLP intake (token, formats, the real
 * OpenTelemetry exporter posting to it) and the admins' search and waterfall.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { OpsTrace, OpsTraceList } from '@bazaar/contracts';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { TRACE_INTAKE_PATH } from '../src/routes/ops-traces.ts';
import { FakeRegistry, type Harness, startHarness } from './support/ops-harness.ts';

const TOKEN = 'collector-token-for-tests-0123456789';
// The gateway's own spans are batched for 50 ms here, not a second.
process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

let harness: Harness;
let gateway: FastifyInstance;
before(async () => {
  harness = await startHarness();
  gateway = await harness.gateway(new FakeRegistry(), { BAZAAR_COLLECTOR_TOKEN: TOKEN });
});
after(async () => {
  await gateway?.close();
  await harness?.close();
});

function exportRequest(spans: object[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans }],
      },
    ],
  };
}

const rootSpan = {
  traceId: TRACE,
  spanId: '00f067aa0ba902b7',
  name: 'POST /api/orders',
  kind: 2,
  startTimeUnixNano: '1735725600000000000',
  endTimeUnixNano: '1735725600250000000',
  attributes: [{ key: 'http.route', value: { stringValue: '/api/orders' } }],
  status: {},
};

function post(body: string | Buffer, headers: Record<string, string> = {}) {
  return gateway.inject({
    method: 'POST',
    url: TRACE_INTAKE_PATH,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

test('the intake takes OTLP JSON with the collector token only, and never as a user token', async () => {
  const body = JSON.stringify(exportRequest([rootSpan]));
  const none = await post(body, { authorization: '' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().code, 'UNAUTHORIZED');
  assert.equal((await post(body, { authorization: `Bearer ${TOKEN}x` })).statusCode, 401);
  const protobuf = await post(Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
  assert.equal(protobuf.statusCode, 415);
  assert.match(String(protobuf.headers['content-type']), /^application\/problem\+json/);
  assert.equal((await post('{"resourceSpans": [')).statusCode, 400);
  const ok = await post(gzipSync(body), { 'content-encoding': 'gzip' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), {});
});

test('without a collector token the intake does not exist', async () => {
  const plain = await harness.gateway(new FakeRegistry());
  try {
    const res = await plain.inject({
      method: 'POST',
      url: TRACE_INTAKE_PATH,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(exportRequest([rootSpan])),
    });
    assert.equal(res.statusCode, 404);
  } finally {
    await plain.close();
  }
});

test('admins find kept traces by route and read one as a waterfall; others may not', async () => {
  const child = {
    ...rootSpan,
    spanId: '1111111111111111',
    parentSpanId: rootSpan.spanId,
    name: 'POST payments',
    kind: 3,
    startTimeUnixNano: '1735725600100000000',
    endTimeUnixNano: '1735725600200000000',
    attributes: [],
    status: { code: 2 },
  };
  assert.equal((await post(JSON.stringify(exportRequest([rootSpan, child])))).statusCode, 200);
  const admin = await harness.bearer('admin');
  const list = await gateway.inject({
    url: '/api/ops/traces?route=/api/orders&status=error',
    headers: admin,
  });
  assert.equal(list.statusCode, 200);
  const items = (list.json() as OpsTraceList).items;
  assert.deepEqual(
    items.map((t) => [t.traceId, t.name, t.durationMs, t.spanCount, t.error]),
    [[TRACE, 'POST /api/orders', 250, 2, true]],
  );
  const one = await gateway.inject({ url: `/api/ops/traces/${TRACE}`, headers: admin });
  assert.equal(one.statusCode, 200);
  assert.deepEqual(
    (one.json() as OpsTrace).spans.map((s) => [s.name, s.kind, s.offsetMs, s.durationMs, s.status]),
    [
      ['POST /api/orders', 'server', 0, 250, 'unset'],
      ['POST payments', 'client', 100, 100, 'error'],
    ],
  );
  const unknown = await gateway.inject({ url: `/api/ops/traces/${'e'.repeat(32)}`, headers: admin });
  assert.equal(unknown.statusCode, 404);
  assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);
  const bad = await gateway.inject({ url: '/api/ops/traces?limit=1000', headers: admin });
  assert.equal(bad.statusCode, 400);
  const customer = await gateway.inject({
    url: '/api/ops/traces',
    headers: await harness.bearer('customer'),
  });
  assert.equal(customer.statusCode, 403);
  assert.equal((await gateway.inject('/api/ops/traces')).statusCode, 401);
});

test("the OpenTelemetry exporter's requests are read as sent, with the header format of OTEL_EXPORTER_OTLP_HEADERS", async () => {
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  const port = (gateway.server.address() as AddressInfo).port;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'inventory', 'service.instance.id': 'inventory-9' }),
    spanProcessors: [
      new SimpleSpanProcessor(
        new OTLPTraceExporter({
          url: `http://127.0.0.1:${port}${TRACE_INTAKE_PATH}`,
          // What `bazaar up` sets: authorization=Bearer%20<token>, decoded by the SDK.
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
      ),
    ],
  });
  const traceId = 'abcdef0123456789abcdef0123456789';
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: '2222222222222222',
    traceFlags: 1,
    isRemote: true,
  });
  const span = provider
    .getTracer('test')
    .startSpan('POST /api/inventory/reservations', { kind: SpanKind.SERVER }, parent);
  span.setAttribute('http.response.status_code', 201);
  span.setStatus({ code: SpanStatusCode.OK });
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
  const res = await gateway.inject({
    url: `/api/ops/traces/${traceId}`,
    headers: await harness.bearer('admin'),
  });
  assert.equal(res.statusCode, 200);
  const [kept] = (res.json() as OpsTrace).spans;
  assert.equal(kept?.service, 'inventory');
  assert.equal(kept?.instance, 'inventory-9');
  assert.equal(kept?.spanId, span.spanContext().spanId);
  assert.equal(kept?.parentSpanId, '2222222222222222');
  assert.equal(kept?.kind, 'server');
  assert.equal(kept?.status, 'ok');
  assert.equal(kept?.attributes['http.response.status_code'], 201);
});

test("the gateway's own spans are kept in process, and the console's polling is not traced", async () => {
  const traceId = 'feedfacefeedfacefeedfacefeedface';
  const res = await gateway.inject({
    url: '/api/products/42',
    headers: { traceparent: `00-${traceId}-3333333333333333-01` },
  });
  assert.equal(res.statusCode, 503, 'no catalog instance is registered');
  const admin = await harness.bearer('admin');
  const until = Date.now() + 5_000;
  let spans: OpsTrace['spans'] = [];
  while (spans.length < 2 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    const one = await gateway.inject({ url: `/api/ops/traces/${traceId}`, headers: admin });
    if (one.statusCode === 200) spans = (one.json() as OpsTrace).spans;
  }
  assert.deepEqual(
    spans.map((s) => [s.service, s.kind, s.name, s.status]),
    [
      ['gateway', 'server', 'GET /api/products', 'error'],
      ['gateway', 'client', 'GET catalog', 'error'],
    ],
  );
  assert.equal(spans[0]?.parentSpanId, '3333333333333333');
  const all = await gateway.inject({ url: '/api/ops/traces?service=gateway&limit=100', headers: admin });
  const names = (all.json() as OpsTraceList).items.map((t) => t.name);
  assert.ok(!names.some((n) => n.includes('/api/ops/')), `no trace of the console's own requests: ${names}`);
});
