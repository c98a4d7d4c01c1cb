import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadline, MAX_DEADLINE_MS } from '../src/client/deadline.ts';
import { ManualClock } from '../src/time.ts';

test('a deadline from the header counts down with the clock and travels on as what remains', () => {
  const clock = new ManualClock();
  const deadline = Deadline.fromHeader('2500', 5_000, clock);
  assert.equal(deadline.atMs, clock.now() + 2_500);
  assert.equal(deadline.remaining(), 2_500);
  clock.advance(1_000);
  assert.equal(deadline.remaining(), 1_500);
  assert.equal(deadline.headerValue(), '1500');
  assert.equal(deadline.expired(), false);
});

test('a missing or malformed header gives the default deadline', () => {
  const clock = new ManualClock();
  for (const value of [undefined, '', 'abc', '-5', '1.5', '12ms', ' 7', '1e3', '0x10']) {
    assert.equal(Deadline.fromHeader(value, 5_000, clock).remaining(), 5_000, String(value));
  }
});

test('a header asking for more than five minutes is held to five minutes', () => {
  const clock = new ManualClock();
  assert.equal(MAX_DEADLINE_MS, 300_000);
  assert.equal(Deadline.fromHeader('86400000', 5_000, clock).remaining(), 300_000);
  assert.equal(Deadline.fromHeader('9'.repeat(400), 5_000, clock).remaining(), 300_000);
  assert.equal(Deadline.fromHeader('300000', 5_000, clock).remaining(), 300_000);
});

test('an expired deadline has zero remaining', () => {
  const clock = new ManualClock();
  const deadline = Deadline.after(100, clock);
  clock.advance(100);
  assert.equal(deadline.expired(), true);
  assert.equal(deadline.remaining(), 0);
  clock.advance(50);
  assert.equal(deadline.remaining(), 0);
  assert.equal(deadline.headerValue(), '0');
  assert.equal(deadline.attemptTimeout({ attemptsLeft: 3, readOnly: true }), 0);
  assert.equal(Deadline.fromHeader('0', 5_000, clock).expired(), true);
});

test('the attempt timeout of a read is at most one second and never beyond the deadline', () => {
  const clock = new ManualClock();
  const read = (remainingMs: number, attemptsLeft: number) =>
    Deadline.after(remainingMs, clock).attemptTimeout({ attemptsLeft, readOnly: true });
  assert.equal(read(5_000, 3), 1_000);
  assert.equal(read(5_000, 1), 1_000);
  assert.equal(read(900, 3), 300);
  assert.equal(read(600, 1), 600);
  assert.equal(read(150, 3), 100, 'a share too short to use is raised to 100 ms');
  assert.equal(read(40, 3), 40);
  for (const remaining of [1, 50, 99, 100, 250, 999, 1_000, 1_001, 3_000, 60_000]) {
    for (const attemptsLeft of [1, 2, 3]) {
      const t = read(remaining, attemptsLeft);
      assert.ok(t > 0 && t <= Math.min(1_000, remaining), `${remaining} ms, ${attemptsLeft} left: ${t}`);
    }
  }
  const slowRead = Deadline.after(5_000, clock).attemptTimeout({
    attemptsLeft: 2,
    readOnly: true,
    maxReadAttemptMs: 2_000,
  });
  assert.equal(slowRead, 2_000);
});

test('a write attempt gets all that remains of the deadline, whatever attempts are left', () => {
  const clock = new ManualClock();
  const deadline = Deadline.after(6_000, clock);
  assert.equal(deadline.attemptTimeout({ attemptsLeft: 3, readOnly: false }), 6_000);
  assert.equal(deadline.attemptTimeout({ attemptsLeft: 2, readOnly: false }), 6_000);
  assert.equal(deadline.attemptTimeout({ attemptsLeft: 1, readOnly: false }), 6_000);
  assert.equal(deadline.attemptTimeout({ attemptsLeft: 0, readOnly: false }), 6_000);
});

test('the earlier of two deadlines wins', () => {
  const clock = new ManualClock();
  const soon = Deadline.after(1_000, clock);
  const later = Deadline.after(4_000, clock);
  assert.equal(soon.min(later), soon);
  assert.equal(later.min(soon), soon);
});
