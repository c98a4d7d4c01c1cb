/** The waterfall of one trace: row order, nesting and where each bar lies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OpsSpan } from '@bazaar/contracts';
import { layoutWaterfall, waterfallTicks } from '../src/lib/waterfall.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

function span(
  id: string,
  parent: string | null,
  service: string,
  offsetMs: number,
  durationMs: number,
): OpsSpan {
  return {
    traceId: TRACE,
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === null ? null : parent.padStart(16, '0'),
    service,
    instance: `${service}-1`,
    name: `${service} ${id}`,
    kind: 'internal',
    startTime: new Date(Date.UTC(2026, 0, 1) + offsetMs).toISOString(),
    offsetMs,
    durationMs,
    status: 'ok',
    attributes: {},
  };
}

const brief = (rows: ReturnType<typeof layoutWaterfall>['rows']) =>
  rows.map((r) => `${'  '.repeat(r.depth)}${r.span.spanId.replace(/^0+/, '')}`);

test('rows go depth-first from the root, children by start, each nested one deeper than its parent', () => {
  // A checkout: the gateway calls orders, which calls payments after inventory (listed out of order).
  const spans = [
    span('a', null, 'gateway', 0, 100),
    span('d', 'b', 'payments', 50, 30),
    span('b', 'a', 'orders', 10, 80),
    span('c', 'b', 'inventory', 20, 20),
    span('e', 'a', 'cart', 95, 5),
    span('f', 'c', 'inventory', 22, 10),
  ];
  const waterfall = layoutWaterfall(spans);
  assert.deepEqual(brief(waterfall.rows), ['a', '  b', '    c', '      f', '    d', '  e']);
  assert.deepEqual(waterfall.services, ['gateway', 'orders', 'inventory', 'payments', 'cart']);
  assert.deepEqual(
    waterfall.rows.map((r) => r.serviceIndex),
    [0, 1, 2, 2, 3, 4],
  );
});

test('bars are placed and sized in percent of the trace, from its first start to its last end', () => {
  const waterfall = layoutWaterfall([
    span('a', null, 'gateway', 0, 200),
    span('b', 'a', 'orders', 50, 100),
    span('c', 'b', 'payments', 150, 50),
  ]);
  assert.equal(waterfall.totalMs, 200);
  assert.deepEqual(
    waterfall.rows.map((r) => [r.leftPct, r.widthPct]),
    [
      [0, 100],
      [25, 50],
      [75, 25],
    ],
  );
});

test('a span that outlives its root stretches the trace, and no bar runs past the end', () => {
  // The cart's consumer handles the event after the request has been answered.
  const waterfall = layoutWaterfall([span('a', null, 'gateway', 0, 40), span('b', 'a', 'cart', 60, 40)]);
  assert.equal(waterfall.totalMs, 100);
  assert.deepEqual(
    waterfall.rows.map((r) => [r.leftPct, r.widthPct]),
    [
      [0, 40],
      [60, 40],
    ],
  );
  for (const row of waterfall.rows) assert.ok(row.leftPct + row.widthPct <= 100);
});

test('offsets are measured from the earliest span even when none starts at 0', () => {
  const waterfall = layoutWaterfall([span('a', null, 'gateway', 10, 10), span('b', 'a', 'orders', 15, 5)]);
  assert.equal(waterfall.totalMs, 10);
  assert.deepEqual(
    waterfall.rows.map((r) => [r.leftPct, r.widthPct]),
    [
      [0, 100],
      [50, 50],
    ],
  );
});

test('spans whose parent was not kept, or that loop, are roots by start; every span gets one row', () => {
  const waterfall = layoutWaterfall([
    span('b', 'missing', 'orders', 30, 10),
    span('a', null, 'gateway', 0, 100),
    span('x', 'y', 'cart', 60, 5),
    span('y', 'x', 'cart', 50, 5),
    span('s', 's', 'payments', 70, 1),
  ]);
  assert.deepEqual(brief(waterfall.rows), ['a', 'b', 's', 'y', '  x']);
  assert.equal(new Set(waterfall.rows.map((r) => r.span.spanId)).size, 5);
});

test('siblings that start together keep the order they came in', () => {
  const waterfall = layoutWaterfall([
    span('a', null, 'gateway', 0, 10),
    span('c', 'a', 'orders', 5, 1),
    span('b', 'a', 'orders', 5, 1),
  ]);
  assert.deepEqual(brief(waterfall.rows), ['a', '  c', '  b']);
});

test('a trace of one instant and an empty trace lay out without dividing by zero', () => {
  const instant = layoutWaterfall([span('a', null, 'gateway', 0, 0), span('b', 'a', 'orders', 0, 0)]);
  assert.equal(instant.totalMs, 0);
  assert.deepEqual(
    instant.rows.map((r) => [r.depth, r.leftPct, r.widthPct]),
    [
      [0, 0, 0],
      [1, 0, 0],
    ],
  );
  assert.deepEqual(layoutWaterfall([]), { totalMs: 0, services: [], rows: [] });
});

test('a deep chain of spans nests without overflowing the stack', () => {
  const spans = [span('0', null, 'gateway', 0, 20_000)];
  for (let i = 1; i < 20_000; i++) spans.push(span(i.toString(16), (i - 1).toString(16), 'orders', i, 1));
  const waterfall = layoutWaterfall(spans);
  assert.equal(waterfall.rows.length, 20_000);
  assert.equal(waterfall.rows.at(-1)?.depth, 19_999);
});

test('the time axis is marked at 0, ¼, ½, ¾ and the whole', () => {
  assert.deepEqual(waterfallTicks(200), [
    { pct: 0, ms: 0 },
    { pct: 25, ms: 50 },
    { pct: 50, ms: 100 },
    { pct: 75, ms: 150 },
    { pct: 100, ms: 200 },
  ]);
});
