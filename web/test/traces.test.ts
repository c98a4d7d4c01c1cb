/** The trace search of the ops console: form fields ⇄ query ⇄ address; durations and alert values in words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAlertValue, formatMs } from '../src/lib/ops-text.ts';
import { ANY_TRACE, readTraceSearch, searchFromParams, traceQueryParams } from '../src/lib/traces.ts';

test('a search reads into the query the API takes, and back into the same address', () => {
  const read = readTraceSearch({
    traceId: ' 0AF76519 ',
    service: 'orders',
    route: '/api/orders',
    status: 'error',
    minDurationMs: '12.5',
    sort: 'slowest',
  });
  assert.deepEqual(read, {
    ok: true,
    query: {
      traceId: '0af76519',
      service: 'orders',
      route: '/api/orders',
      status: 'error',
      minDurationMs: 12.5,
      sort: 'slowest',
    },
  });
  assert.ok(read.ok);
  const params = traceQueryParams(read.query);
  assert.equal(
    params.toString(),
    'traceId=0af76519&service=orders&route=%2Fapi%2Forders&status=error&minDurationMs=12.5&sort=slowest',
  );
  assert.deepEqual(readTraceSearch(searchFromParams(params)), read);
});

test('an empty search asks for every recent trace, newest first, with nothing in the address', () => {
  assert.deepEqual(readTraceSearch(ANY_TRACE), { ok: true, query: {} });
  assert.equal(traceQueryParams({}).toString(), '');
  assert.deepEqual(searchFromParams(new URLSearchParams('status=maybe&sort=fastest')), ANY_TRACE);
});

test('a trace id that is not hexadecimal and a duration that is not a number are named', () => {
  const read = readTraceSearch({ ...ANY_TRACE, traceId: 'xyz', minDurationMs: '-3' });
  assert.equal(read.ok, false);
  assert.ok(!read.ok);
  assert.deepEqual(Object.keys(read.problems).sort(), ['minDurationMs', 'traceId']);
  assert.equal(readTraceSearch({ ...ANY_TRACE, traceId: 'a'.repeat(33) }).ok, false);
  assert.equal(readTraceSearch({ ...ANY_TRACE, minDurationMs: '1e3' }).ok, false);
  assert.equal(readTraceSearch({ ...ANY_TRACE, minDurationMs: '0' }).ok, true);
});

test('durations and alert values in words', () => {
  assert.equal(formatMs(0.42), '0.42 ms');
  assert.equal(formatMs(12.34), '12.3 ms');
  assert.equal(formatMs(3), '3 ms');
  assert.equal(formatMs(245.4), '245 ms');
  assert.equal(formatMs(1250), '1.25 s');
  assert.equal(formatMs(2000), '2 s');
  assert.equal(formatAlertValue(3), '3');
  assert.equal(formatAlertValue(0.83333), '0.833');
  assert.equal(formatAlertValue(1234.5678), '1230');
});
