import type { Product } from '@bazaar/contracts';
import type { Redis } from 'ioredis';
import type { ProductStore, StoreLookup } from './product-store.ts';

// Each product has two keys: `p:<id>` the cached JSON, `v:<id>` a counter every drop increments.
// A fill stores only when the counter still has the value read before the database was: a read
// that began before a change and finished after its drop must not put the old product back.
const FILL = `
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0
`;

// Long enough to outlive any read in flight (requests have deadlines of seconds), short enough that
// counters of products nobody reads go away.
const VERSION_TTL_MS = 10 * 60_000;

interface WithFill {
  bazaarFillProduct(
    productKey: string,
    versionKey: string,
    ticket: string,
    json: string,
    ttlMs: string,
  ): Promise<number>;
}

/** Products kept in Redis, shared by every catalog instance, each for at most `ttlMs`. */
export class RedisProductStore implements ProductStore {
  readonly #redis: Redis & WithFill;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor({
    redis,
    ttlMs,
    prefix = 'bazaar:catalog:',
  }: { redis: Redis; ttlMs: number; prefix?: string }) {
    redis.defineCommand('bazaarFillProduct', { numberOfKeys: 2, lua: FILL });
    this.#redis = redis as Redis & WithFill;
    this.#prefix = prefix;
    this.#ttlMs = ttlMs;
  }

  async get(id: string): Promise<StoreLookup> {
    const [json, version] = await this.#redis.mget(this.#key('p', id), this.#key('v', id));
    if (json) return { product: JSON.parse(json) as Product };
    return { ticket: version ?? '0' };
  }

  async fill(id: string, product: Product, ticket: string): Promise<void> {
    await this.#redis.bazaarFillProduct(
      this.#key('p', id),
      this.#key('v', id),
      ticket,
      JSON.stringify(product),
      String(this.#ttlMs),
    );
  }

  async drop(id: string): Promise<void> {
    await this.#redis
      .multi()
      .incr(this.#key('v', id))
      .pexpire(this.#key('v', id), VERSION_TTL_MS)
      .del(this.#key('p', id))
      .exec();
  }

  /** Removes every cached product (not the counters, which keep guarding fills in flight). */
  async clear(): Promise<void> {
    const stream = this.#redis.scanStream({ match: `${this.#prefix}p:*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length > 0) await this.#redis.unlink(...keys);
    }
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }

  #key(kind: 'p' | 'v', id: string): string {
    return `${this.#prefix}${kind}:${id}`;
  }
}
