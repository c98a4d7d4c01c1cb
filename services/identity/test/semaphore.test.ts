import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueFullError, Semaphore } from '../src/semaphore.ts';

test('no more than the limit run at once; the rest wait in order and a full queue is refused', async () => {
  const gate = new Semaphore({ limit: 2, maxWaiting: 3 });
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const releases: (() => void)[] = [];
  const job = (n: number) =>
    gate.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => releases.push(r));
      order.push(n);
      running--;
    });
  const jobs = [1, 2, 3, 4, 5].map(job);
  await assert.rejects(job(6), QueueFullError);
  while (order.length < 5) {
    await new Promise((r) => setImmediate(r));
    releases.shift()?.();
  }
  await Promise.all(jobs);
  assert.equal(most, 2);
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
  assert.equal(gate.active, 0);
});
