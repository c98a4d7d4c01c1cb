import type { Product } from '@bazaar/contracts';
import { type Clock, LruCache } from '@bazaar/kit';
import type { ProductStore, StoreLookup } from './product-store.ts';

// Drops are counted in this many buckets of ids, so that a fill is refused only when a product of
// its bucket changed meanwhile, not whenever any product did (stock moves change them often).
const BUCKETS = 256;

/** Products kept in this process: at most `capacity`, each for at most `ttlMs`. */
export class MemoryProductStore implements ProductStore {
  readonly #entries: LruCache<string, { product: Product; expiresAt: number }>;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #drops = new Uint32Array(BUCKETS);
  #clears = 0;

  constructor({ capacity = 10_000, ttlMs, clock }: { capacity?: number; ttlMs: number; clock: Clock }) {
    this.#entries = new LruCache(capacity);
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  async get(id: string): Promise<StoreLookup> {
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt > this.#clock.now()) return { product: entry.product };
    if (entry) this.#entries.delete(id);
    return { ticket: this.#ticket(id) };
  }

  async fill(id: string, product: Product, ticket: string): Promise<void> {
    if (ticket !== this.#ticket(id)) return;
    this.#entries.set(id, { product, expiresAt: this.#clock.now() + this.#ttlMs });
  }

  async drop(id: string): Promise<void> {
    const bucket = bucketOf(id);
    this.#drops[bucket] = (this.#drops[bucket]! + 1) >>> 0;
    this.#entries.delete(id);
  }

  async clear(): Promise<void> {
    this.#clears++;
    this.#entries.clear();
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  #ticket(id: string): string {
    return `${this.#clears}:${this.#drops[bucketOf(id)]}`;
  }
}

function bucketOf(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return (hash >>> 0) % BUCKETS;
}
