/** The web app's pure helpers: the hand-read event stream, reconnect delays, ops wording, price input. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPriceInput, parsePrice, parseStock } from '../src/lib/merchant.ts';
import { describePoint, formatAgo } from '../src/lib/ops-text.ts';
import { backoffMs, parseSse } from '../src/lib/sse.ts';

test('parses frames, comments, multi-line data and keeps the rest', () => {
  const r = parseSse(
    ': ping\n\nevent: services\ndata: {"a":1}\n\ndata: x\ndata:y\n\nevent: services\ndata: {"b"',
  );
  assert.deepEqual(r.events, [
    { event: 'services', data: '{"a":1}' },
    { event: 'message', data: 'x\ny' },
  ]);
  assert.equal(r.rest, 'event: services\ndata: {"b"');
  const next = parseSse(r.rest + ':2}\n\n');
  assert.deepEqual(next.events, [{ event: 'services', data: '{"b":2}' }]);
  assert.equal(next.rest, '');
});
test('line ends may be CRLF, CR or LF, even split across chunks', () => {
  const a = parseSse('event: services\r\ndata: 1\r');
  assert.deepEqual(a.events, []);
  const b = parseSse(a.rest + '\n\r\n');
  assert.deepEqual(b.events, [{ event: 'services', data: '1' }]);
  const c = parseSse('data: 1\r\rdata: 2\r\r');
  assert.deepEqual(
    c.events.map((e) => e.data),
    ['1'],
  );
  assert.deepEqual(
    parseSse(c.rest + 'x').events.map((e) => e.data),
    ['2'],
  );
  const d = parseSse('id: 7\ndata\n\n');
  assert.deepEqual(d.events, [{ event: 'message', data: '', id: '7' }]);
});
test('reconnect delays double from 1 s to 30 s, with ±20 % jitter', () => {
  assert.equal(
    backoffMs(1, () => 0.5),
    1000,
  );
  assert.equal(
    backoffMs(3, () => 0.5),
    4000,
  );
  assert.equal(
    backoffMs(20, () => 0.5),
    30000,
  );
  assert.equal(
    backoffMs(1, () => 0),
    800,
  );
});
test('heartbeat ages and traffic points in words', () => {
  assert.equal(formatAgo('2020-01-01T00:00:00Z', Date.parse('2020-01-01T00:00:02.5Z')), '2 s ago');
  assert.equal(formatAgo('2020-01-01T00:00:00Z', Date.parse('2020-01-01T00:03:02Z')), '3 min ago');
  assert.equal(formatAgo('bad', 0), 'unknown');
  assert.equal(
    describePoint({ at: '', requestRate: 12.34, errorRate: 0, p50Ms: 1, p99Ms: 45.2 }),
    '12.3 req/s, 0% errors, p99 45 ms',
  );
  assert.equal(
    describePoint({ at: '', requestRate: 0, errorRate: 0.1234, p50Ms: null, p99Ms: null }),
    '0.0 req/s, 12.3% errors, p99 not measured',
  );
});
test('prices typed in major units become exact minor units; stock is a whole number', () => {
  assert.deepEqual(parsePrice('12.5', 2), { ok: true, minor: 1250 });
  assert.deepEqual(parsePrice(' 12,50 ', 2), { ok: true, minor: 1250 });
  assert.deepEqual(parsePrice('0.07', 2), { ok: true, minor: 7 });
  assert.deepEqual(parsePrice('12', 0), { ok: true, minor: 12 });
  assert.equal(parsePrice('12.505', 2).ok, false);
  assert.equal(parsePrice('-1', 2).ok, false);
  assert.equal(parsePrice('1e3', 2).ok, false);
  assert.equal(parsePrice('', 2).ok, false);
  assert.equal(parsePrice('12.', 2).ok, true);
  assert.equal(formatPriceInput(1250, 2), '12.50');
  assert.equal(formatPriceInput(7, 2), '0.07');
  assert.equal(formatPriceInput(0, 2), '0.00');
  assert.equal(formatPriceInput(1250, 0), '1250');
  assert.equal(parseStock('05'), 5);
  assert.equal(parseStock('1.5'), null);
  assert.equal(parseStock('-1'), null);
});
