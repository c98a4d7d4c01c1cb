import type { ServiceContext } from '@bazaar/kit';
import type { Redis } from 'ioredis';
import type { BucketDecision, BucketPolicy } from '../domain/token-bucket.ts';
import type { BucketStore } from './bucket-store.ts';

// The same arithmetic as domain/token-bucket.ts, run inside Redis so that a take is atomic across
// every gateway instance. Redis's own clock is used: gateways' clocks may disagree.
const TAKE = `
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
elseif now > at then
  tokens = math.min(capacity, tokens + (now - at) * refill)
end
local allowed = 1
local wait = 0
if cost <= 0 then
  tokens = math.min(capacity, tokens - cost)
elseif tokens >= cost then
  tokens = tokens - cost
else
  allowed = 0
  wait = math.ceil((cost - tokens) / refill)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / refill) + 1000)
return { allowed, wait, math.floor(tokens) }
`;

interface WithTake {
  bazaarTakeTokens(
    key: string,
    capacity: string,
    refill: string,
    cost: string,
  ): Promise<[number, number, number]>;
}

/**
 * Token buckets shared by every gateway instance through Redis (`BAZAAR_REDIS_URL`), one hash per
 * bucket under `prefix`, expiring once it would be full again. When Redis does not answer, the
 * take is decided by `fallback` (this process's buckets), so limits hold per instance meanwhile.
 */
export class RedisBucketStore implements BucketStore {
  readonly #redis: Redis & WithTake;
  readonly #prefix: string;
  readonly #fallback: BucketStore;
  readonly #log: ServiceContext['log'] | undefined;
  #failing = false;

  constructor(options: {
    redis: Redis;
    fallback: BucketStore;
    prefix?: string;
    log?: ServiceContext['log'];
  }) {
    options.redis.defineCommand('bazaarTakeTokens', { numberOfKeys: 1, lua: TAKE });
    this.#redis = options.redis as Redis & WithTake;
    this.#prefix = options.prefix ?? 'bazaar:rl:';
    this.#fallback = options.fallback;
    this.#log = options.log;
  }

  async take(key: string, policy: BucketPolicy, cost = 1): Promise<BucketDecision> {
    try {
      const [allowed, wait, remaining] = await this.#redis.bazaarTakeTokens(
        this.#prefix + key,
        String(policy.capacity),
        String(policy.refillPerMs),
        String(cost),
      );
      if (this.#failing) this.#log?.info('rate limits shared through Redis again');
      this.#failing = false;
      return { allowed: allowed === 1, retryAfterMs: wait, remaining };
    } catch (err) {
      if (!this.#failing) {
        this.#log?.warn({ err: (err as Error).message }, 'Redis unavailable: rate limits held per instance');
      }
      this.#failing = true;
      return this.#fallback.take(key, policy, cost);
    }
  }

  async close(): Promise<void> {
    await this.#fallback.close();
    this.#redis.disconnect();
  }
}
