import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ManualClock } from '@bazaar/kit';
import { Redis } from 'ioredis';
import { parseLimit } from '../src/domain/limit-spec.ts';
import { type BucketPolicy, takeTokens } from '../src/domain/token-bucket.ts';
import { MemoryBucketStore } from '../src/rate-limit/memory-store.ts';
import { RateLimits } from '../src/rate-limit/rate-limits.ts';
import { RedisBucketStore } from '../src/rate-limit/redis-store.ts';

const perSecond = (n: number, burst = n): BucketPolicy => ({ capacity: burst, refillPerMs: n / 1000 });

describe('token bucket', () => {
  test('a full bucket lets a burst through, then refuses with the wait until the next token', () => {
    const policy = perSecond(2, 4);
    let state: ReturnType<typeof takeTokens>['state'] | undefined;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const r = takeTokens(state, policy, 0);
      state = r.state;
      outcomes.push(r.decision.allowed);
      if (i === 4) assert.equal(r.decision.retryAfterMs, 500);
    }
    assert.deepEqual(outcomes, [true, true, true, true, false]);
    assert.equal(takeTokens(state, policy, 499).decision.allowed, false);
    assert.equal(takeTokens(state, policy, 500).decision.allowed, true);
  });

  test('tokens refill with time up to the capacity, never beyond', () => {
    const policy = perSecond(10, 3);
    const empty = { tokens: 0, updatedAt: 0 };
    assert.equal(takeTokens(empty, policy, 10_000, 0).decision.remaining, 3);
  });

  test('a refused take takes nothing, a negative cost gives back', () => {
    const policy = perSecond(1, 2);
    const low = { tokens: 0.5, updatedAt: 0 };
    const refused = takeTokens(low, policy, 0);
    assert.equal(refused.decision.allowed, false);
    assert.equal(refused.state.tokens, 0.5);
    assert.equal(takeTokens(low, policy, 0, -1).state.tokens, 1.5);
  });

  test('the in-process store keys buckets separately and follows its clock', async () => {
    const clock = new ManualClock();
    const store = new MemoryBucketStore({ clock });
    const policy: BucketPolicy = { capacity: 2, refillPerMs: 1 / 60_000 };
    assert.equal((await store.take('a', policy)).allowed, true);
    assert.equal((await store.take('a', policy)).allowed, true);
    const third = await store.take('a', policy);
    assert.equal(third.allowed, false);
    assert.equal(third.retryAfterMs, 60_000);
    assert.equal((await store.take('b', policy)).allowed, true);
    clock.advance(60_000);
    assert.equal((await store.take('a', policy)).allowed, true);
  });
});

describe('limit settings', () => {
  test('count per duration, with an optional burst; off turns a limit off', () => {
    assert.deepEqual(parseLimit('100/s,burst=200'), { capacity: 200, refillPerMs: 0.1 });
    assert.deepEqual(parseLimit('5/15m'), { capacity: 5, refillPerMs: 5 / 900_000 });
    assert.deepEqual(parseLimit('20/1m'), { capacity: 20, refillPerMs: 20 / 60_000 });
    assert.equal(parseLimit('off'), undefined);
    for (const bad of ['', '5', '5/', '0/s', '-1/s', '5/15x', '5/m,burst=0', 'lots']) {
      assert.throws(() => parseLimit(bad), /not a rate limit/, bad);
    }
  });
});

describe('failed logins', () => {
  const limitsWith = (clock: ManualClock) =>
    new RateLimits(new MemoryBucketStore({ clock }), {
      loginFailuresPerAccount: parseLimit('5/15m'),
      loginFailuresPerAddress: parseLimit('20/1m'),
    });

  test('the sixth failure of an account within 15 minutes is refused with Retry-After', async () => {
    const clock = new ManualClock();
    const limits = limitsWith(clock);
    for (let i = 0; i < 5; i++)
      await (await limits.beginLogin('Victim@Example.com', '10.0.0.1')).settle(true);
    await assert.rejects(
      limits.beginLogin('victim@example.com ', '10.0.0.2'),
      (err: Error & { status: number; headers: Record<string, string> }) => {
        assert.equal(err.status, 429);
        assert.equal(err.headers['retry-after'], '180');
        return true;
      },
    );
    clock.advance(180_000);
    await limits.beginLogin('victim@example.com', '10.0.0.3');
  });

  test('logins that succeed give their hold back', async () => {
    const limits = limitsWith(new ManualClock());
    for (let i = 0; i < 50; i++)
      await (await limits.beginLogin('user@example.com', '10.0.0.1')).settle(false);
  });

  test('20 failures from one address across accounts stop that address only', async () => {
    const limits = limitsWith(new ManualClock());
    for (let i = 0; i < 20; i++)
      await (await limits.beginLogin(`user${i}@example.com`, '10.0.0.9')).settle(true);
    await assert.rejects(limits.beginLogin('fresh@example.com', '10.0.0.9'), { status: 429 });
    await limits.beginLogin('fresh@example.com', '10.0.0.10');
  });
});

describe('shared through Redis', async () => {
  const url = process.env.BAZAAR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  probe.on('error', () => undefined);
  const available = await probe.connect().then(
    () => true,
    () => false,
  );
  if (!available) {
    const message = `!!! SKIPPED: no Redis at ${url}: the shared rate-limit tests did not run`;
    if (process.env.CI === 'true') throw new Error(message);
    console.log(message);
  }
  const prefix = `bazaar-test:${randomUUID()}:`;
  after(async () => {
    if (available) {
      const keys = await probe.keys(`${prefix}*`);
      if (keys.length > 0) await probe.del(...keys);
    }
    probe.disconnect();
  });
  const store = () =>
    new RedisBucketStore({
      redis: new Redis(url, { maxRetriesPerRequest: 0 }),
      fallback: new MemoryBucketStore(),
      prefix,
    });

  test('two gateway instances draw from the same bucket', { skip: !available }, async () => {
    const a = store();
    const b = store();
    try {
      const policy = parseLimit('5/1m')!;
      const seen: boolean[] = [];
      for (let i = 0; i < 6; i++)
        seen.push((await (i % 2 === 0 ? a : b).take('ip:10.1.1.1', policy)).allowed);
      assert.deepEqual(seen, [true, true, true, true, true, false]);
      const refused = await a.take('ip:10.1.1.1', policy);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 12_000, `${refused.retryAfterMs} ms`);
      assert.equal((await b.take('ip:10.1.1.2', policy)).allowed, true, 'another key has its own bucket');
      await a.take('ip:10.1.1.1', policy, -1);
      assert.equal(
        (await b.take('ip:10.1.1.1', policy)).allowed,
        true,
        'a token given back on one is seen by the other',
      );
      const ttl = await probe.pttl(`${prefix}ip:10.1.1.1`);
      assert.ok(ttl > 0 && ttl <= 61_000, `buckets expire once full again (ttl ${ttl} ms)`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('parallel takes are atomic: exactly the capacity gets through', { skip: !available }, async () => {
    const stores = [store(), store(), store()];
    try {
      const policy = parseLimit('20/1m')!;
      const results = await Promise.all(
        Array.from({ length: 90 }, (_, i) => stores[i % 3]!.take('login-ip:10.2.2.2', policy)),
      );
      assert.equal(results.filter((r) => r.allowed).length, 20);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('when Redis does not answer, the instance decides alone', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    dead.on('error', () => undefined);
    const s = new RedisBucketStore({ redis: dead, fallback: new MemoryBucketStore(), prefix });
    try {
      const policy = parseLimit('2/1m')!;
      const seen = [];
      for (let i = 0; i < 3; i++) seen.push((await s.take('k', policy)).allowed);
      assert.deepEqual(seen, [true, true, false]);
    } finally {
      await s.close();
    }
  });
});
