import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRetryBudget } from '../src/client/retry-budget.ts';
import { ManualClock } from '../src/time.ts';

function withdrawAll(budget: { tryWithdraw(): boolean }, limit = 10_000): number {
  let granted = 0;
  while (granted < limit && budget.tryWithdraw()) granted++;
  return granted;
}

test('a retry budget of 20% refuses the 21st retry in a window of 100 requests above the floor', () => {
  const budget = createRetryBudget({ ratio: 0.2, minPerSecond: 0, clock: new ManualClock() });
  for (let i = 0; i < 100; i++) budget.recordRequest();
  for (let i = 0; i < 20; i++) assert.equal(budget.tryWithdraw(), true, `retry ${i + 1}`);
  assert.equal(budget.tryWithdraw(), false);
  assert.equal(budget.refused, 1);
});

test('the floor lets a quiet client retry ten times a second over the ttl, on top of the ratio', () => {
  const quiet = createRetryBudget({ clock: new ManualClock() });
  assert.equal(withdrawAll(quiet), 100);
  assert.equal(quiet.refused, 1);

  const busy = createRetryBudget({ clock: new ManualClock() });
  for (let i = 0; i < 100; i++) busy.recordRequest();
  assert.equal(withdrawAll(busy), 120);
});

test('deposits older than the ttl no longer pay for retries', () => {
  const clock = new ManualClock();
  const budget = createRetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000, clock });
  for (let i = 0; i < 100; i++) budget.recordRequest();
  clock.advance(9_000);
  assert.equal(budget.tryWithdraw(), true, 'still inside the window');
  clock.advance(1_000);
  assert.equal(budget.tryWithdraw(), false, 'outside the window');
  assert.equal(budget.refused, 1);
});

test('retries taken expire with the window too, so the budget refills', () => {
  const clock = new ManualClock();
  let refusals = 0;
  const budget = createRetryBudget({ minPerSecond: 1, ttlMs: 10_000, clock, onRefused: () => refusals++ });
  assert.equal(withdrawAll(budget), 10);
  clock.advance(5_000);
  assert.equal(budget.tryWithdraw(), false);
  clock.advance(5_000);
  assert.equal(withdrawAll(budget), 10);
  assert.equal(budget.refused, 3);
  assert.equal(refusals, 3);
});

test('requests spread over the window all count towards the budget', () => {
  const clock = new ManualClock();
  const budget = createRetryBudget({ ratio: 0.5, minPerSecond: 0, ttlMs: 10_000, clock });
  for (let second = 0; second < 10; second++) {
    for (let i = 0; i < 10; i++) budget.recordRequest();
    clock.advance(999);
  }
  assert.equal(withdrawAll(budget), 50);
});
