import { type Clock, LruCache, systemClock } from '@bazaar/kit';
import {
  type BucketDecision,
  type BucketPolicy,
  type BucketState,
  takeTokens,
} from '../domain/token-bucket.ts';
import type { BucketStore } from './bucket-store.ts';

/**
 * Token buckets in this process, at most `maxKeys` of them (least recently used go first; a
 * forgotten bucket comes back full, the same as one left alone long enough).
 */
export class MemoryBucketStore implements BucketStore {
  readonly #clock: Clock;
  readonly #buckets: LruCache<string, BucketState>;

  constructor(options: { clock?: Clock; maxKeys?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#buckets = new LruCache(options.maxKeys ?? 100_000);
  }

  async take(key: string, policy: BucketPolicy, cost = 1): Promise<BucketDecision> {
    const { state, decision } = takeTokens(this.#buckets.get(key), policy, this.#clock.now(), cost);
    this.#buckets.set(key, state);
    return decision;
  }

  async close(): Promise<void> {
    this.#buckets.clear();
  }
}
