/**
 * The spans the kit records, through a built app and a real database, exported to memory: server
 * spans of requests, client spans of calls, transactions, the outbox's producer span and the
 * consumer span that continues it, and errors kept when the trace is not sampled.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { EventEnvelope, EventSpec } from '@bazaar/contracts';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Type } from 'typebox';
import { Agent } from 'undici';
import {
  buildApp,
  consumerSubscription,
  createMetrics,
  currentContext,
  defineService,
  installTracing,
  outboxWriter,
  ServiceClient,
  startOutboxRelay,
  type Tracing,
  withTransaction,
} from '../src/index.ts';
import { setTracingEnabled } from '../src/telemetry/tracer.ts';
import { createServiceDatabase, type ServiceTestDatabase, StaticInstances } from '../src/testing/index.ts';

/** A tracer that samples no new trace, and what it exports (error spans only). */
function installSamplingNone() {
  const unsampled = new InMemorySpanExporter();
  const zero = installTracing({
    service: 'probe',
    instanceId: 'probe-1',
    exporter: unsampled,
    sampling: { ratio: 0, perSecond: 0 },
  });
  return { unsampled, zero };
}

const log = pino({ level: 'silent' });
const made: EventSpec = { type: 'probe.thing-made', version: 1, data: Type.Object({ n: Type.Integer() }) };
const writer = outboxWriter('probe');
const CALLER = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

const exporter = new InMemorySpanExporter();
const dispatcher = new Agent({ connect: { timeout: 500 } });
let tracing: Tracing;
let db: ServiceTestDatabase;
let upstream: Server;
let upstreamTraceparent: string | undefined;
let app: FastifyInstance;

const probe = defineService({
  name: 'probe',
  routes: (scope) => {
    scope.get('/api/items/:id', async () => {
      const trace = currentContext()!.trace;
      return { traceId: trace.traceId, spanId: trace.spanId };
    });
    scope.get('/api/boom', async () => {
      throw new Error('broken on purpose');
    });
    scope.get('/internal/ping', async () => ({ ok: true }));
    scope.get('/api/relayed', async () => {
      const client = upstreamClient();
      return client.json({ path: '/answer' });
    });
    scope.post('/api/things', async () => {
      const envelope = await withTransaction(db.pool, (tx) => writer.publish(tx, made, 'thing-1', { n: 1 }));
      return { id: envelope.id };
    });
  },
});

function upstreamClient(): ServiceClient {
  const source = new StaticInstances();
  source.set('catalog', [`127.0.0.1:${(upstream.address() as AddressInfo).port}`]);
  return new ServiceClient({ target: 'catalog', source, dispatcher, metrics: createMetrics('probe'), log });
}

/** The spans ended since the last call, once the batch is flushed. */
async function exported(): Promise<ReadableSpan[]> {
  await tracing.flush();
  const spans = exporter.getFinishedSpans();
  exporter.reset();
  return spans;
}

function only(spans: ReadableSpan[], kind: SpanKind): ReadableSpan {
  const found = spans.filter((s) => s.kind === kind);
  assert.equal(found.length, 1, `one span of kind ${SpanKind[kind]} in ${spans.map((s) => s.name)}`);
  return found[0]!;
}

before(async () => {
  tracing = installTracing({ service: 'probe', instanceId: 'probe-1', exporter });
  db = await createServiceDatabase('tracing', new URL('./', import.meta.url));
  upstream = createServer((req, res) => {
    upstreamTraceparent = req.headers.traceparent as string | undefined;
    res.setHeader('content-type', 'application/json');
    res.end('{"answer":42}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  ({ app } = await buildApp(probe, { env: {} }));
});

after(async () => {
  await app?.close();
  upstream?.close();
  await dispatcher.close();
  await tracing?.shutdown();
  await db?.drop();
});

test("a request is a server span named by its route, in the caller's trace, whose id is the hop's span id", async () => {
  const res = await app.inject({
    url: '/api/items/42?secret=query',
    headers: { traceparent: `00-${CALLER}-${CALLER_SPAN}-01` },
  });
  assert.equal(res.statusCode, 200);
  const server = only(await exported(), SpanKind.SERVER);
  assert.equal(server.name, 'GET /api/items/:id');
  assert.equal(server.spanContext().traceId, CALLER);
  assert.equal(server.parentSpanContext?.spanId, CALLER_SPAN);
  assert.deepEqual(res.json(), { traceId: CALLER, spanId: server.spanContext().spanId });
  assert.equal(server.attributes['http.route'], '/api/items/:id');
  assert.equal(server.attributes['http.request.method'], 'GET');
  assert.equal(server.attributes['http.response.status_code'], 200);
  assert.equal(server.attributes['url.path'], '/api/items/42', 'no query string');
  assert.equal(server.status.code, SpanStatusCode.UNSET);
  assert.equal(server.resource.attributes['service.name'], 'probe');
  assert.equal(server.resource.attributes['service.instance.id'], 'probe-1');
});

test('a 5xx answer is an error span; health, metrics and background requests are not exported', async () => {
  assert.equal((await app.inject('/api/boom')).statusCode, 500);
  assert.equal((await app.inject('/health/live')).statusCode, 200);
  assert.equal((await app.inject('/metrics')).statusCode, 200);
  // Starts a trace off the public API: recorded, not sampled, and it did not fail.
  assert.equal((await app.inject('/internal/ping')).statusCode, 200);
  const spans = await exported();
  assert.deepEqual(
    spans.map((s) => s.name),
    ['GET /api/boom'],
  );
  assert.equal(spans[0]!.status.code, SpanStatusCode.ERROR);
  assert.equal(spans[0]!.parentSpanContext, undefined, 'a new trace starts at the public API');
});

test('an outbound call is a client span under the server span, and the callee gets its traceparent', async () => {
  const res = await app.inject('/api/relayed');
  assert.equal(res.statusCode, 200);
  const spans = await exported();
  const server = only(spans, SpanKind.SERVER);
  const client = only(spans, SpanKind.CLIENT);
  assert.equal(client.name, 'GET catalog');
  assert.equal(client.spanContext().traceId, server.spanContext().traceId);
  assert.equal(client.parentSpanContext?.spanId, server.spanContext().spanId);
  assert.equal(upstreamTraceparent, `00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
  assert.equal(client.attributes['peer.service'], 'catalog');
  assert.equal(client.attributes['server.address'], '127.0.0.1');
  assert.equal(client.attributes['server.port'], (upstream.address() as AddressInfo).port);
  assert.equal(client.attributes['http.response.status_code'], 200);
  assert.equal(client.attributes['bazaar.attempts'], 1);
});

test('a call that finds no instance is a failed client span', async () => {
  const source = new StaticInstances();
  source.set('payments', []);
  const client = new ServiceClient({
    target: 'payments',
    source,
    dispatcher,
    metrics: createMetrics('p'),
    log,
  });
  const { app: caller } = await buildApp(
    defineService({
      name: 'caller',
      routes: (scope) => {
        scope.get('/api/pay', async () => client.json({ path: '/x' }));
      },
    }),
    { env: {} },
  );
  try {
    assert.equal((await caller.inject('/api/pay')).statusCode, 503);
  } finally {
    await caller.close();
  }
  const spans = await exported();
  const failed = only(spans, SpanKind.CLIENT);
  assert.equal(failed.status.code, SpanStatusCode.ERROR);
  assert.equal(failed.parentSpanContext?.spanId, only(spans, SpanKind.SERVER).spanContext().spanId);
});

test("a transaction is a db.transaction span, and the outbox row keeps the request's traceparent", async () => {
  const res = await app.inject({ method: 'POST', url: '/api/things' });
  assert.equal(res.statusCode, 200);
  const spans = await exported();
  const server = only(spans, SpanKind.SERVER);
  const tx = only(spans, SpanKind.CLIENT);
  assert.equal(tx.name, 'db.transaction');
  assert.equal(tx.attributes['db.system'], 'postgresql');
  assert.equal(tx.parentSpanContext?.spanId, server.spanContext().spanId);
  const { rows } = await db.pool.query<{ traceparent: string }>(
    'SELECT traceparent FROM kit_outbox WHERE id = $1',
    [res.json().id],
  );
  const { traceId, spanId } = server.spanContext();
  assert.equal(rows[0]?.traceparent, `00-${traceId}-${spanId}-01`);
});

test('the relay publishes under a producer span of the stored trace, and the consumer continues it', async () => {
  await db.pool.query('DELETE FROM kit_outbox');
  const res = await app.inject({ method: 'POST', url: '/api/things' });
  const server = only(await exported(), SpanKind.SERVER);
  const published: EventEnvelope[] = [];
  const relay = startOutboxRelay({
    pool: db.pool,
    transport: { publish: async (envelopes) => void published.push(...envelopes) },
    log,
    metrics: createMetrics('probe'),
    pollMs: 10,
  });
  const giveUp = Date.now() + 10_000;
  while (published.length === 0 && Date.now() < giveUp) await new Promise((r) => setTimeout(r, 10));
  await relay.stop();
  const envelope = published.find((e) => e.id === res.json().id);
  assert.ok(envelope, 'the event was published');
  const producer = only(await exported(), SpanKind.PRODUCER);
  assert.equal(producer.name, 'publish probe.thing-made');
  assert.equal(producer.parentSpanContext?.spanId, server.spanContext().spanId);
  assert.equal(
    envelope.traceparent,
    `00-${server.spanContext().traceId}-${producer.spanContext().spanId}-01`,
  );

  let handledIn: { traceId: string; spanId: string } | undefined;
  const subscription = consumerSubscription({
    service: 'watcher',
    consumer: {
      name: 'things',
      events: [made],
      handle: async (_event, tx) => {
        handledIn = currentContext()?.trace;
        await tx.query('SELECT 1');
      },
    },
    pool: db.pool,
    ctx: {},
    log,
    metrics: createMetrics('watcher'),
    maxAttempts: 3,
  });
  assert.equal(await subscription.handle(envelope, { attempt: 1 }), 'ack');
  const spans = await exported();
  const consumer = only(spans, SpanKind.CONSUMER);
  assert.equal(consumer.name, 'process probe.thing-made');
  assert.equal(consumer.spanContext().traceId, server.spanContext().traceId);
  assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
  assert.equal(consumer.attributes['messaging.consumer.group.name'], 'watcher.things');
  assert.equal(consumer.attributes['bazaar.outcome'], 'processed');
  const { traceId, spanId } = consumer.spanContext();
  assert.deepEqual(
    { traceId: handledIn?.traceId, spanId: handledIn?.spanId },
    { traceId, spanId },
    "the handler runs in the consumer span's context",
  );
  const tx = only(spans, SpanKind.CLIENT);
  assert.equal(tx.parentSpanContext?.spanId, consumer.spanContext().spanId);
});

test('with sampling at 0, the spans of a failing request are still exported and those of a good one are not', async () => {
  const { unsampled, zero } = installSamplingNone();
  try {
    assert.equal((await app.inject('/api/items/1')).statusCode, 200);
    assert.equal((await app.inject('/api/boom')).statusCode, 500);
    const res = await app.inject({
      url: '/api/relayed',
      headers: { traceparent: `00-${CALLER}-${CALLER_SPAN}-00` },
    });
    assert.equal(res.statusCode, 200);
    await zero.flush();
    const spans = unsampled.getFinishedSpans();
    assert.deepEqual(
      spans.map((s) => s.name),
      ['GET /api/boom'],
    );
    assert.equal(spans[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(upstreamTraceparent?.endsWith('-00'), true, 'the unsampled flag travels on');
  } finally {
    await zero.shutdown();
  }
});

test('an unsampled request costs no SDK span, and one that fails is exported with the ids its work carried', async () => {
  const { unsampled, zero } = installSamplingNone();
  try {
    // A good unsampled request: the hop's ids are the deferred span's, nothing is exported.
    const good = (
      await app.inject({ url: '/api/items/7', headers: { traceparent: `00-${CALLER}-${CALLER_SPAN}-00` } })
    ).json() as { traceId: string; spanId: string };
    assert.equal(good.traceId, CALLER);
    assert.match(good.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(good.spanId, CALLER_SPAN);
    // A failing one, in a trace of its caller's: its error span keeps the trace and the parent.
    assert.equal(
      (await app.inject({ url: '/api/boom', headers: { traceparent: `00-${CALLER}-${CALLER_SPAN}-00` } }))
        .statusCode,
      500,
    );
    await zero.flush();
    const spans = unsampled.getFinishedSpans();
    assert.deepEqual(
      spans.map((s) => s.name),
      ['GET /api/boom'],
    );
    const span = spans[0]!;
    assert.equal(span.spanContext().traceId, CALLER);
    assert.equal(span.parentSpanContext?.spanId, CALLER_SPAN);
    assert.equal(span.attributes['http.response.status_code'], 500);
    assert.ok(span.duration[0] > 0 || span.duration[1] > 0, 'it spans the request, from its start');
  } finally {
    await zero.shutdown();
  }
});

test('tracing turned off while running records nothing, not even errors, yet passes the trace on; turned on, it records again', async () => {
  const { unsampled, zero } = installSamplingNone();
  const names = async () => {
    await zero.flush();
    const spans = unsampled.getFinishedSpans().map((s) => s.name);
    unsampled.reset();
    return spans;
  };
  setTracingEnabled(false);
  try {
    assert.equal((await app.inject('/api/boom')).statusCode, 500);
    const res = await app.inject({
      url: '/api/relayed',
      headers: { traceparent: `00-${CALLER}-${CALLER_SPAN}-01` },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(upstreamTraceparent?.split('-')[1], CALLER, 'the trace still travels');
    assert.deepEqual(await names(), []);
  } finally {
    setTracingEnabled(true);
  }
  try {
    assert.equal((await app.inject('/api/boom')).statusCode, 500);
    assert.deepEqual(await names(), ['GET /api/boom']);
  } finally {
    await zero.shutdown();
  }
});
