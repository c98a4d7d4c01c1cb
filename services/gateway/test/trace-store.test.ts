import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeOtlpTraces, OtlpFormatError } from '../src/telemetry/otlp-json.ts';
import { InvalidTraceCursor, TraceStore, traceCursor } from '../src/telemetry/trace-store.ts';

const T0 = Date.parse('2025-01-01T10:00:00Z');

/** A span of `trace` (a short id, padded), starting `at` ms after T0 and lasting `ms`. */
function span(
  trace: string,
  id: string,
  over: Partial<Parameters<TraceStore['add']>[0][number]> & { at?: number; ms?: number } = {},
) {
  const { at = 0, ms = 10, ...rest } = over;
  return {
    traceId: trace.padStart(32, '0'),
    spanId: id.padStart(16, '0'),
    parentSpanId: null,
    service: 'gateway',
    instance: 'gateway-1',
    name: 'GET /api/products',
    kind: 'server' as const,
    startMs: T0 + at,
    durationMs: ms,
    status: 'unset' as const,
    attributes: {},
    ...rest,
  };
}

/** A checkout-shaped trace: gateway → orders → payments, payments failing when `failed`. */
function checkout(trace: string, at: number, ms: number, failed = false) {
  return [
    span(trace, '1', {
      at,
      ms,
      name: 'POST /api/orders',
      attributes: { 'http.route': '/api/orders', 'http.response.status_code': failed ? 502 : 201 },
    }),
    span(trace, '2', { at: at + 1, ms: ms - 2, parentSpanId: '1'.padStart(16, '0'), service: 'orders' }),
    span(trace, '3', {
      at: at + 2,
      ms: ms - 4,
      parentSpanId: '2'.padStart(16, '0'),
      service: 'payments',
      status: failed ? 'error' : 'ok',
    }),
  ];
}

test('a trace is summed up from its root span, and its spans come back as a waterfall', () => {
  const store = new TraceStore();
  // The consumer's span arrives first; the root comes in a later batch.
  store.add([span('a', '4', { at: 30, ms: 5, parentSpanId: '3'.padStart(16, '0'), service: 'cart' })]);
  store.add(checkout('a', 0, 20));
  const [summary] = store.search({});
  assert.deepEqual(summary, {
    traceId: 'a'.padStart(32, '0'),
    service: 'gateway',
    name: 'POST /api/orders',
    route: '/api/orders',
    httpStatus: 201,
    startTime: new Date(T0).toISOString(),
    durationMs: 35,
    spanCount: 4,
    services: ['cart', 'gateway', 'orders', 'payments'],
    error: false,
  });
  const trace = store.trace('a'.padStart(32, '0'));
  assert.deepEqual(
    trace?.spans.map((s) => [s.service, s.offsetMs, s.parentSpanId?.replace(/^0+/, '') ?? null]),
    [
      ['gateway', 0, null],
      ['orders', 1, '1'],
      ['payments', 2, '2'],
      ['cart', 30, '3'],
    ],
  );
  assert.equal(store.trace('f'.repeat(32)), undefined);
});

test('search filters by trace id prefix, service, route, status and duration, newest or slowest first', () => {
  const store = new TraceStore();
  store.add(checkout('a1', 0, 50));
  store.add(checkout('b2', 100, 300, true));
  store.add(checkout('c3', 200, 20));
  store.add([span('d4', '1', { at: 300, ms: 2, attributes: { 'http.route': '/api/products' } })]);
  const ids = (items: { traceId: string }[]) => items.map((i) => i.traceId.replace(/^0+/, ''));
  assert.deepEqual(ids(store.search({})), ['d4', 'c3', 'b2', 'a1']);
  assert.deepEqual(ids(store.search({ sort: 'slowest', limit: 2 })), ['b2', 'a1']);
  assert.deepEqual(ids(store.search({ service: 'payments' })), ['c3', 'b2', 'a1']);
  assert.deepEqual(ids(store.search({ route: '/api/products' })), ['d4']);
  assert.deepEqual(ids(store.search({ status: 'error' })), ['b2']);
  assert.deepEqual(ids(store.search({ status: 'ok', minDurationMs: 40 })), ['a1']);
  assert.deepEqual(ids(store.search({ traceId: `${'0'.repeat(30)}c` })), ['c3']);
  assert.equal(store.search({ status: 'error' })[0]?.httpStatus, 502);
});

test('the oldest traces go when a bound is passed, and a span sent twice is kept once', () => {
  const store = new TraceStore({ maxTraces: 3, maxSpans: 8 });
  store.add(checkout('1', 0, 10));
  store.add(checkout('2', 10, 10));
  store.add(checkout('1', 0, 10)); // an exporter's retry: nothing new
  assert.deepEqual(store.size, { traces: 2, spans: 6 });
  // Trace 1 gets a late span: it is now the youngest, so trace 2 goes first.
  store.add([span('1', '9', { at: 40, parentSpanId: '3'.padStart(16, '0') })]);
  store.add(checkout('3', 20, 10));
  assert.deepEqual(store.size, { traces: 2, spans: 7 });
  assert.equal(store.trace('2'.padStart(32, '0')), undefined, 'over 8 spans: the oldest trace went');
  store.add([span('4', '1', { at: 50 })]);
  store.add([span('5', '1', { at: 60 })]);
  assert.deepEqual(store.size, { traces: 3, spans: 5 });
  assert.deepEqual(
    store.search({}).map((t) => t.traceId.replace(/^0+/, '')),
    ['5', '4', '3'],
    'over 3 traces: the least recently added to went',
  );
});

test('an OTLP JSON export request is read into spans; malformed spans are counted and skipped', () => {
  const request = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'orders' } },
            { key: 'service.instance.id', value: { stringValue: 'orders-1a2b' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: '@bazaar/kit' },
            spans: [
              {
                traceId: '0AF7651916CD43DD8448EB211C80319C',
                spanId: 'b7ad6b7169203331',
                parentSpanId: '00f067aa0ba902b7',
                name: 'POST /api/orders',
                kind: 2,
                startTimeUnixNano: '1735725600000000000',
                endTimeUnixNano: '1735725600012345678',
                attributes: [
                  { key: 'http.route', value: { stringValue: '/api/orders' } },
                  { key: 'http.response.status_code', value: { intValue: '201' } },
                  { key: 'retry', value: { boolValue: false } },
                  { key: 'ratio', value: { doubleValue: 0.5 } },
                  { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }] } } },
                ],
                status: { code: 2, message: 'boom' },
              },
              { traceId: 'xyz', spanId: 'b7ad6b7169203332', startTimeUnixNano: '1', endTimeUnixNano: '2' },
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'c7ad6b7169203331',
                parentSpanId: '',
                kind: 'SPAN_KIND_CONSUMER',
                startTimeUnixNano: 1735725600000000000,
                endTimeUnixNano: '1735725599000000000',
              },
            ],
          },
        ],
      },
    ],
  };
  const { spans, rejected } = decodeOtlpTraces(request);
  assert.equal(rejected, 1);
  assert.deepEqual(spans[0], {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    service: 'orders',
    instance: 'orders-1a2b',
    name: 'POST /api/orders',
    kind: 'server',
    startMs: 1735725600000,
    durationMs: 12.345,
    status: 'error',
    attributes: {
      'http.route': '/api/orders',
      'http.response.status_code': 201,
      retry: false,
      ratio: 0.5,
      tags: '{"values":[{"stringValue":"a"}]}',
    },
  });
  assert.equal(spans[1]?.parentSpanId, null);
  assert.equal(spans[1]?.kind, 'consumer');
  assert.equal(spans[1]?.durationMs, 0, 'an end before the start is no negative duration');
  assert.deepEqual(decodeOtlpTraces({}), { spans: [], rejected: 0 });
  assert.throws(() => decodeOtlpTraces({ resourceSpans: 'no' }), OtlpFormatError);
});

test('a cursor continues the list where the page ended, in either order; a foreign cursor is refused', () => {
  const store = new TraceStore();
  // Two traces start in the same millisecond and two last as long: ties are ordered by trace id.
  for (const [trace, at, ms] of [
    ['a1', 0, 12],
    ['b2', 10, 30],
    ['c3', 10, 12],
    ['d4', 25, 7],
    ['e5', 40, 30],
  ] as const)
    store.add([span(trace, '1', { at, ms })]);
  for (const sort of ['recent', 'slowest'] as const) {
    const whole = store.search({ sort, limit: 100 }).map((t) => t.traceId);
    assert.equal(whole.length, 5);
    const first = store.search({ sort, limit: 2 });
    const rest = store.search({ sort, limit: 100, cursor: traceCursor(first.at(-1)!, sort) });
    assert.deepEqual(
      [...first, ...rest].map((t) => t.traceId),
      whole,
      sort,
    );
  }
  assert.throws(() => store.search({ cursor: 'bm90LWEtY3Vyc29y' }), InvalidTraceCursor);
});
