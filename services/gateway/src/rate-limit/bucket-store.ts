import type { BucketDecision, BucketPolicy } from '../domain/token-bucket.ts';

/**
 * Where token buckets live: in this process (`memory-store.ts`) or shared by every gateway
 * instance through Redis (`redis-store.ts`). Keys name the bucket; a key is always used with the
 * same policy.
 */
export interface BucketStore {
  /** Takes `cost` tokens (a negative cost gives them back), atomically. */
  take(key: string, policy: BucketPolicy, cost?: number): Promise<BucketDecision>;
  close(): Promise<void>;
}
