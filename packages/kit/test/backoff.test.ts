import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitterBackoff } from '../src/client/backoff.ts';

test('the ceiling of the pause doubles from the base with each retry until the cap', () => {
  const half = fullJitterBackoff({ random: () => 0.5 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(half), [25, 50, 100, 200, 400, 500, 500]);
});

test('the first retry waits less than the base, and no retry waits the cap or longer', () => {
  const top = fullJitterBackoff({ baseMs: 50, capMs: 1_000, random: () => 0.999 });
  assert.ok(top(1) < 50);
  assert.ok(Math.abs(top(1) - 49.95) < 1e-9);
  assert.ok(Math.abs(top(30) - 999) < 1e-9);
  assert.ok(Math.abs(top(5_000) - 999) < 1e-9);
  const none = fullJitterBackoff({ random: () => 0 });
  assert.equal(none(3), 0);
});

test('full jitter spreads pauses over the whole range', () => {
  let s = 12345;
  const lcg = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const backoff = fullJitterBackoff({ baseMs: 100, capMs: 10_000, random: lcg });
  const pauses = Array.from({ length: 1_000 }, () => backoff(2));
  assert.ok(pauses.every((p) => p >= 0 && p < 200));
  assert.ok(Math.min(...pauses) < 10);
  assert.ok(Math.max(...pauses) > 190);
  const mean = pauses.reduce((a, b) => a + b, 0) / pauses.length;
  assert.ok(mean > 90 && mean < 110, `mean ${mean}`);
});
