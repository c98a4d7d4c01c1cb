import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryTiming } from '@bazaar/contracts';
import { ManualClock } from '@bazaar/kit';
import { acceptsHeartbeat, type LeaseState, leaseUntil, sweepDecision } from '../src/domain/lease.ts';

const timing = RegistryTiming;

test('an instance that heartbeats every 2 s is never evicted', () => {
  const clock = new ManualClock();
  let lease = leaseUntil(clock.now(), timing);
  for (let beat = 0; beat < 100; beat++) {
    for (let t = 0; t < timing.heartbeatMs; t += timing.sweepMs) {
      clock.advance(timing.sweepMs);
      assert.equal(
        sweepDecision({ status: 'up', leaseExpiresAt: lease, downAt: null }, clock.now(), timing),
        'keep',
      );
    }
    lease = leaseUntil(clock.now(), timing);
  }
});

test('a dead instance is marked down by the first sweep after its lease, within 7 s of its last heartbeat', () => {
  const clock = new ManualClock();
  const lastBeat = clock.now();
  const state: LeaseState = { status: 'up', leaseExpiresAt: leaseUntil(lastBeat, timing), downAt: null };
  let evictedAt: number | undefined;
  // Sweeps run every second, at some phase relative to the last heartbeat.
  clock.advance(300);
  while (evictedAt === undefined) {
    if (sweepDecision(state, clock.now(), timing) === 'mark-down') evictedAt = clock.now();
    clock.advance(timing.sweepMs);
  }
  const after = evictedAt - lastBeat;
  assert.ok(after > timing.leaseMs && after <= 7_000, `evicted ${after} ms after the last heartbeat`);
});

test('a down instance is listed for 60 s, then removed', () => {
  const clock = new ManualClock();
  const state: LeaseState = { status: 'down', leaseExpiresAt: clock.now() - 1, downAt: clock.now() };
  clock.advance(59_000);
  assert.equal(sweepDecision(state, clock.now(), timing), 'keep');
  clock.advance(2_000);
  assert.equal(sweepDecision(state, clock.now(), timing), 'remove');
});

test('a draining instance is removed, not marked down, when its lease ends', () => {
  const clock = new ManualClock();
  const state: LeaseState = {
    status: 'draining',
    leaseExpiresAt: leaseUntil(clock.now(), timing),
    downAt: null,
  };
  clock.advance(5_000);
  assert.equal(sweepDecision(state, clock.now(), timing), 'keep');
  clock.advance(1_500);
  assert.equal(sweepDecision(state, clock.now(), timing), 'remove');
});

test('an evicted instance must register again: its heartbeat is refused', () => {
  assert.equal(acceptsHeartbeat('down'), false);
  assert.equal(acceptsHeartbeat('up'), true);
  assert.equal(acceptsHeartbeat('draining'), true);
});
