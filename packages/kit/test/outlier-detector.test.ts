import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOutlierDetector, type EjectionReason } from '../src/client/outlier-detector.ts';
import { ManualClock } from '../src/time.ts';

function setup(pool: string[] = ['a', 'b', 'c']) {
  const clock = new ManualClock();
  const ejections: { id: string; reason: EjectionReason; forMs: number }[] = [];
  const returns: string[] = [];
  const detector = createOutlierDetector({
    clock,
    onEject: (id, reason, untilMs) => ejections.push({ id, reason, forMs: untilMs - clock.now() }),
    onReturn: (id) => returns.push(id),
  });
  detector.setPool(pool);
  const fail = (id: string, times: number) => {
    for (let i = 0; i < times; i++) detector.recordFailure(id);
  };
  return { clock, detector, ejections, returns, fail };
}

test('an instance is ejected after five consecutive failures and returns after 30 s', () => {
  const { clock, detector, ejections, returns, fail } = setup();
  fail('a', 4);
  assert.equal(detector.isEjected('a'), false);
  assert.equal(detector.recordFailure('a'), true);
  assert.equal(detector.isEjected('a'), true);
  assert.deepEqual(ejections, [{ id: 'a', reason: 'consecutive-failures', forMs: 30_000 }]);
  assert.deepEqual(detector.ejected(), ['a']);

  clock.advance(29_999);
  assert.equal(detector.isEjected('a'), true);
  assert.deepEqual(returns, []);
  clock.advance(1);
  assert.equal(detector.isEjected('a'), false);
  assert.equal(detector.isEjected('a'), false);
  assert.deepEqual(returns, ['a']);
  assert.deepEqual(detector.ejected(), []);
});

test('a success breaks the run of failures', () => {
  const { detector, fail } = setup();
  fail('a', 4);
  detector.recordSuccess('a');
  fail('a', 4);
  assert.equal(detector.isEjected('a'), false);
  fail('a', 1);
  assert.equal(detector.isEjected('a'), true);
});

test('the second ejection lasts twice as long', () => {
  const { clock, detector, ejections, fail } = setup();
  fail('a', 5);
  clock.advance(30_000);
  assert.equal(detector.isEjected('a'), false);
  fail('a', 4);
  assert.equal(detector.isEjected('a'), false, 'a returned instance needs a fresh run of failures');
  fail('a', 1);
  assert.deepEqual(
    ejections.map((e) => e.forMs),
    [30_000, 60_000],
  );
  clock.advance(59_999);
  assert.equal(detector.isEjected('a'), true);
  clock.advance(1);
  assert.equal(detector.isEjected('a'), false);
});

test('an instance that stays healthy after returning is forgiven one ejection per 30 s', () => {
  const { clock, detector, ejections } = setup();
  detector.ejectNow('a', 'connection-reset'); // 1st: 30 s
  clock.advance(30_000);
  detector.ejectNow('a', 'connection-reset'); // fails again at once: 2nd, 60 s
  clock.advance(60_000);
  assert.equal(detector.isEjected('a'), false);
  clock.advance(30_000);
  detector.ejectNow('a', 'connection-reset'); // 30 s healthy forgive one: 2nd again, 60 s
  clock.advance(60_000);
  assert.equal(detector.isEjected('a'), false);
  clock.advance(60_000);
  detector.ejectNow('a', 'connection-reset'); // 60 s healthy forgive both: 1st again, 30 s
  assert.deepEqual(
    ejections.map((e) => e.forMs),
    [30_000, 60_000, 60_000, 30_000],
  );
});

test('ejections never last longer than five minutes', () => {
  const { clock, detector, ejections } = setup();
  for (let i = 0; i < 15; i++) {
    detector.ejectNow('a', 'connection-refused');
    clock.advance(ejections.at(-1)!.forMs);
    assert.equal(detector.isEjected('a'), false);
  }
  assert.equal(ejections.length, 15);
  assert.equal(Math.max(...ejections.map((e) => e.forMs)), 300_000);
  assert.equal(ejections[9]!.forMs, 300_000);
});

test('a connection refusal ejects at once, and a second one does not extend the ejection', () => {
  const { clock, detector, ejections } = setup();
  assert.equal(detector.ejectNow('b', 'connection-refused'), true);
  assert.equal(detector.isEjected('b'), true);
  clock.advance(10_000);
  assert.equal(detector.ejectNow('b', 'connection-refused'), false);
  assert.deepEqual(ejections, [{ id: 'b', reason: 'connection-refused', forMs: 30_000 }]);
  clock.advance(20_000);
  assert.equal(detector.isEjected('b'), false);
});

test('never more than half the pool is ejected', () => {
  const four = setup(['a', 'b', 'c', 'd']);
  assert.equal(four.detector.ejectNow('a', 'connection-refused'), true);
  assert.equal(four.detector.ejectNow('b', 'connection-reset'), true);
  assert.equal(four.detector.ejectNow('c', 'connection-refused'), false);
  four.fail('d', 10);
  assert.deepEqual(four.detector.ejected().sort(), ['a', 'b']);

  const three = setup(['a', 'b', 'c']);
  assert.equal(three.detector.ejectNow('a', 'connection-refused'), true);
  assert.equal(three.detector.ejectNow('b', 'connection-refused'), false);

  const two = setup(['a', 'b']);
  assert.equal(two.detector.ejectNow('a', 'connection-refused'), true);
  assert.equal(two.detector.ejectNow('b', 'connection-refused'), false);

  const one = setup(['a']);
  one.fail('a', 20);
  assert.equal(one.detector.ejectNow('a', 'connection-refused'), false);
  assert.equal(one.detector.isEjected('a'), false);
  assert.deepEqual(one.ejections, []);
});

test('an instance held back by the half-the-pool rule is ejected by its next failure once room frees up', () => {
  const { clock, detector, fail } = setup(['a', 'b']);
  detector.ejectNow('a', 'connection-refused');
  fail('b', 5);
  assert.equal(detector.isEjected('b'), false);
  clock.advance(30_000);
  assert.equal(detector.recordFailure('b'), true);
  assert.deepEqual(detector.ejected(), ['b']);
});

test('instances removed from the pool are forgotten and no longer count towards its size', () => {
  const { detector } = setup(['a', 'b', 'c', 'd']);
  detector.ejectNow('a', 'connection-refused');
  detector.setPool(['b', 'c', 'd']);
  assert.deepEqual(detector.ejected(), []);
  assert.equal(detector.isEjected('a'), false);
  assert.equal(detector.ejectNow('b', 'connection-refused'), true);
  assert.equal(detector.ejectNow('c', 'connection-refused'), false);
  detector.setPool(['b', 'c', 'd', 'e']);
  assert.equal(detector.ejectNow('c', 'connection-refused'), true);
  assert.deepEqual(detector.ejected().sort(), ['b', 'c']);
});
