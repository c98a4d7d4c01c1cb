import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBalancer, type Endpoint } from '../src/balancing/balancer.ts';
import { updateEwma } from '../src/balancing/ewma.ts';
import { createP2cEwma } from '../src/balancing/p2c-ewma.ts';
import { createRoundRobin } from '../src/balancing/round-robin.ts';
import { ManualClock } from '../src/time.ts';

/** A seeded PRNG (mulberry32), so that every run makes the same choices. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function endpoint(id: string, inflight = 0, ewmaMs = 10): Endpoint {
  return { id, inflight, ewmaMs };
}

function tally(pick: () => Endpoint | undefined, times: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const id = pick()?.id ?? 'none';
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

test('round robin spreads picks evenly over three endpoints', () => {
  const rr = createRoundRobin();
  const list = [endpoint('a'), endpoint('b'), endpoint('c')];
  assert.deepEqual(
    Array.from({ length: 6 }, () => rr.pick(list)?.id),
    ['a', 'b', 'c', 'a', 'b', 'c'],
  );
  assert.deepEqual(
    tally(() => rr.pick(list), 300),
    { a: 100, b: 100, c: 100 },
  );
});

test('round robin stays fair and in range when instances leave and join', () => {
  const rr = createRoundRobin();
  const three = [endpoint('a'), endpoint('b'), endpoint('c')];
  rr.pick(three);
  rr.pick(three);
  const one = [endpoint('c')];
  assert.equal(rr.pick(one)?.id, 'c');
  const two = [endpoint('a'), endpoint('c')];
  assert.deepEqual(
    tally(() => rr.pick(two), 100),
    { a: 50, c: 50 },
  );
});

test('balancers return undefined for an empty list and the only candidate of a list of one', () => {
  for (const name of ['round-robin', 'p2c-ewma'] as const) {
    const balancer = createBalancer(name, { random: seeded(1) });
    assert.equal(balancer.pick([]), undefined, name);
    const only = endpoint('only', 7, 500);
    assert.equal(balancer.pick([only]), only, name);
  }
});

test('p2c prefers the endpoint with fewer requests in flight', () => {
  const p2c = createP2cEwma({ random: seeded(42) });
  const idle = endpoint('idle', 0);
  const busy = endpoint('busy', 4);
  assert.deepEqual(
    tally(() => p2c.pick([busy, idle]), 200),
    { idle: 200 },
  );

  // With four, the idlest wins every pair it is drawn into (half of them), the busiest none.
  const list = [endpoint('a', 0), endpoint('b', 2), endpoint('c', 3), endpoint('d', 9)];
  const counts = tally(() => p2c.pick(list), 6_000);
  assert.equal(counts.d, undefined);
  assert.ok(counts.a! > 2_800 && counts.a! < 3_200, `a picked ${counts.a} times`);
  assert.ok(counts.b! > 1_800 && counts.b! < 2_200, `b picked ${counts.b} times`);
  assert.ok(counts.c! > 800 && counts.c! < 1_200, `c picked ${counts.c} times`);
});

test('p2c prefers the faster endpoint, and weighs latency against load', () => {
  const p2c = createP2cEwma({ random: seeded(7) });
  const fast = endpoint('fast', 0, 10);
  const slow = endpoint('slow', 0, 100);
  assert.deepEqual(
    tally(() => p2c.pick([slow, fast]), 100),
    { fast: 100 },
  );
  // 10 ms × (9 + 1) = 100 costs more than 60 ms × (0 + 1) = 60.
  const loadedFast = endpoint('fast', 9, 10);
  const idleSlower = endpoint('slower', 0, 60);
  assert.equal(p2c.pick([loadedFast, idleSlower])?.id, 'slower');
});

test('p2c compares two distinct endpoints even when random repeats itself', () => {
  const p2c = createP2cEwma({ random: () => 0 });
  const first = endpoint('first', 1);
  const second = endpoint('second', 0);
  assert.equal(p2c.pick([first, second])?.id, 'second');
  const almostOne = createP2cEwma({ random: () => 0.999_999_9 });
  assert.equal(almostOne.pick([second, first])?.id, 'second');
});

test('p2c gives a new instance without latency data the mean latency of the others, so it gets traffic', () => {
  const p2c = createP2cEwma({ random: seeded(3) });
  const fast = endpoint('fast', 0, 10);
  const slow = endpoint('slow', 0, 30);
  const fresh = endpoint('fresh', 0, 0);
  // fresh counts as 20 ms: it beats slow (the third of pairs) and loses to fast.
  const counts = tally(() => p2c.pick([fast, slow, fresh]), 3_000);
  assert.equal(counts.slow, undefined);
  assert.ok(counts.fresh! > 850 && counts.fresh! < 1_150, `fresh picked ${counts.fresh} times`);
  assert.equal(counts.fast! + counts.fresh!, 3_000);

  // With no data anywhere, load alone decides.
  const a = endpoint('a', 2, 0);
  const b = endpoint('b', 1, 0);
  assert.equal(p2c.pick([a, b])?.id, 'b');
});

test('a peak EWMA takes a slower sample at once and lets a faster one decay in over time', () => {
  assert.equal(updateEwma(0, 42, 0), 42);
  assert.equal(updateEwma(10, 100, 1), 100);
  assert.equal(updateEwma(100, 10, 0), 100);
  const afterOneDecay = updateEwma(100, 10, 10_000);
  assert.ok(Math.abs(afterOneDecay - (10 + 90 * Math.exp(-1))) < 1e-9, String(afterOneDecay));
  assert.ok(updateEwma(100, 10, 1_000) > 90);
  assert.ok(updateEwma(100, 10, 100_000) < 10.01);
  assert.ok(Math.abs(updateEwma(100, 10, 1_000, 1_000) - afterOneDecay) < 1e-9);
});

test('the balancer named in config is the one created', () => {
  const rr = createBalancer('round-robin');
  const list = [endpoint('a', 0), endpoint('b', 5)];
  assert.deepEqual([rr.pick(list)?.id, rr.pick(list)?.id, rr.pick(list)?.id], ['a', 'b', 'a']);
  const p2c = createBalancer('p2c-ewma', { random: seeded(9) });
  assert.deepEqual(
    tally(() => p2c.pick(list), 10),
    { a: 10 },
  );
});

test('p2c fades the latency of an instance without new samples, so it is tried again', () => {
  const clock = new ManualClock();
  const balancer = createBalancer<Endpoint>('p2c-ewma', { clock, random: () => 0.1 });
  const once = { id: 'warming', inflight: 0, ewmaMs: 80, lastSampleAt: clock.now() };
  const steady = { id: 'steady', inflight: 0, ewmaMs: 2, lastSampleAt: clock.now() };
  assert.equal(balancer.pick([once, steady])?.id, 'steady');
  for (let s = 0; s < 60; s++) {
    clock.advance(1_000);
    steady.lastSampleAt = clock.now(); // the busy one keeps its fresh average
  }
  assert.equal(balancer.pick([once, steady])?.id, 'warming');
});
