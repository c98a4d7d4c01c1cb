import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Product } from '@bazaar/contracts';
import { ManualClock } from '@bazaar/kit';
import { Redis } from 'ioredis';
import { MemoryProductStore } from '../src/cache/memory-store.ts';
import type { ProductStore } from '../src/cache/product-store.ts';
import { RedisProductStore } from '../src/cache/redis-store.ts';

const REDIS_URL = process.env.BAZAAR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function product(name: string): Product {
  return {
    id: randomUUID(),
    merchantId: 'm-1',
    name,
    description: '',
    price: 100,
    currency: 'USD',
    category: 'toys',
    imageUrl: null,
    available: null,
    availableAsOf: null,
    createdAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
  };
}

async function ticketOf(store: ProductStore, id: string): Promise<string> {
  const found = await store.get(id);
  assert.ok('ticket' in found, 'not cached');
  return found.ticket;
}

/** The behaviour every store shares. */
function storeContract(make: () => ProductStore) {
  test('a filled product is answered until it is dropped', async () => {
    const store = make();
    const p = product('Top');
    await store.fill(p.id, p, await ticketOf(store, p.id));
    assert.deepEqual(await store.get(p.id), { product: p });
    await store.drop(p.id);
    await ticketOf(store, p.id);
  });

  test('a fill that read the database before a drop is not kept', async () => {
    const store = make();
    const p = product('Kite');
    const ticket = await ticketOf(store, p.id);
    await store.drop(p.id);
    await store.fill(p.id, p, ticket);
    await ticketOf(store, p.id);
    await store.fill(p.id, p, await ticketOf(store, p.id));
    assert.deepEqual(await store.get(p.id), { product: p }, 'a fill after the drop is kept');
  });

  test('clear forgets every product', async () => {
    const store = make();
    const [p, q] = [product('Drum'), product('Flute')];
    await store.fill(p.id, p, await ticketOf(store, p.id));
    await store.fill(q.id, q, await ticketOf(store, q.id));
    await store.clear();
    await ticketOf(store, p.id);
    await ticketOf(store, q.id);
  });
}

describe('the in-process store', () => {
  storeContract(() => new MemoryProductStore({ ttlMs: 60_000, clock: new ManualClock() }));

  test('a product is answered for at most the TTL', async () => {
    const clock = new ManualClock();
    const store = new MemoryProductStore({ ttlMs: 60_000, clock });
    const p = product('Yo-yo');
    await store.fill(p.id, p, await ticketOf(store, p.id));
    clock.advance(59_999);
    assert.deepEqual(await store.get(p.id), { product: p });
    clock.advance(1);
    await ticketOf(store, p.id);
  });

  test('a clear also refuses fills that were in flight', async () => {
    const store = new MemoryProductStore({ ttlMs: 60_000, clock: new ManualClock() });
    const p = product('Marbles');
    const ticket = await ticketOf(store, p.id);
    await store.clear();
    await store.fill(p.id, p, ticket);
    await ticketOf(store, p.id);
  });

  test('it keeps at most its capacity, dropping the least recently used', async () => {
    const store = new MemoryProductStore({ capacity: 2, ttlMs: 60_000, clock: new ManualClock() });
    const [p, q, r] = [product('One'), product('Two'), product('Three')];
    for (const x of [p, q, r]) await store.fill(x.id, x, await ticketOf(store, x.id));
    await ticketOf(store, p.id);
    assert.deepEqual(await store.get(r.id), { product: r });
  });
});

describe('the Redis store', async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  probe.on('error', () => undefined);
  const available = await probe.connect().then(
    () => true,
    () => false,
  );
  if (!available) {
    const message = `!!! SKIPPED: no Redis at ${REDIS_URL}: the Redis product store tests did not run`;
    if (process.env.CI === 'true') throw new Error(message);
    console.log(message);
  }
  const prefix = `bazaar-test:${randomUUID()}:`;
  const stores: RedisProductStore[] = [];
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    if (available) {
      const keys = await probe.keys(`${prefix}*`);
      if (keys.length > 0) await probe.del(...keys);
    }
    probe.disconnect();
  });
  const make = () => {
    const store = new RedisProductStore({
      redis: new Redis(REDIS_URL, { maxRetriesPerRequest: 0 }),
      ttlMs: 60_000,
      prefix,
    });
    stores.push(store);
    return store;
  };

  if (available) storeContract(make);

  test('a cached product expires within the TTL', { skip: !available }, async () => {
    const store = make();
    const p = product('Piano');
    await store.fill(p.id, p, await ticketOf(store, p.id));
    const ttl = await probe.pttl(`${prefix}p:${p.id}`);
    assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl} ms`);
  });

  test('a drop through one instance is seen by the fills of another', { skip: !available }, async () => {
    const [one, two] = [make(), make()];
    const p = product('Train');
    const ticket = await ticketOf(one, p.id);
    await two.drop(p.id);
    await one.fill(p.id, p, ticket);
    await ticketOf(two, p.id);
  });
});
