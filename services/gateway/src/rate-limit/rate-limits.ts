import { createHash } from 'node:crypto';
import { AppError } from '@bazaar/kit';
import type { BucketPolicy } from '../domain/token-bucket.ts';
import type { BucketStore } from './bucket-store.ts';

/** The gateway's limits; an absent one is off. */
export interface RateLimitPolicies {
  perAddress?: BucketPolicy | undefined;
  perUser?: BucketPolicy | undefined;
  loginFailuresPerAccount?: BucketPolicy | undefined;
  loginFailuresPerAddress?: BucketPolicy | undefined;
}

/** A login attempt let through: `settle` tells whether identity refused it. */
export interface LoginAttempt {
  settle(failed: boolean): Promise<void>;
}

/**
 * The gateway's rate limits over a bucket store: requests per client address and per user, and
 * failed logins per account and per address. Refusals are `RATE_LIMITED` problems with `Retry-After`.
 */
export class RateLimits {
  readonly #store: BucketStore;
  #policies: RateLimitPolicies;

  constructor(store: BucketStore, policies: RateLimitPolicies) {
    this.#store = store;
    this.#policies = policies;
  }

  /**
   * Replaces the limits (the config center's push); the next request is counted against them.
   * Buckets already filled keep their tokens, refilled from now on at the new rate.
   */
  replace(policies: RateLimitPolicies): void {
    this.#policies = policies;
  }

  /** Counts a request from `address`; throws 429 when its bucket is empty. */
  async address(address: string): Promise<void> {
    await this.#take(`ip:${address}`, this.#policies.perAddress, 'Too many requests from this address.');
  }

  /** Counts a request of user `id`; throws 429 when their bucket is empty. */
  async user(id: string): Promise<void> {
    await this.#take(`user:${id}`, this.#policies.perUser, 'Too many requests for this account.');
  }

  /**
   * Before a login is forwarded: holds one failure from the account's and the address's allowance
   * (so parallel guesses cannot slip past the count), or throws 429 when either is spent. The
   * attempt's `settle(false)` gives them back once identity accepted the password.
   */
  async beginLogin(email: string | undefined, address: string): Promise<LoginAttempt> {
    const held: { key: string; policy: BucketPolicy }[] = [];
    const wanted = [
      { key: `login-ip:${address}`, policy: this.#policies.loginFailuresPerAddress },
      {
        key: `login-account:${accountKey(email)}`,
        policy: email ? this.#policies.loginFailuresPerAccount : undefined,
      },
    ];
    let waitMs = 0;
    for (const { key, policy } of wanted) {
      if (!policy) continue;
      const decision = await this.#store.take(key, policy);
      if (decision.allowed) held.push({ key, policy });
      else waitMs = Math.max(waitMs, decision.retryAfterMs);
    }
    const giveBack = () => Promise.all(held.map(({ key, policy }) => this.#store.take(key, policy, -1)));
    if (waitMs > 0) {
      await giveBack();
      throw rateLimited('Too many failed logins; wait before trying again.', waitMs);
    }
    return {
      settle: async (failed) => {
        if (!failed) await giveBack();
      },
    };
  }

  async #take(key: string, policy: BucketPolicy | undefined, detail: string): Promise<void> {
    if (!policy) return;
    const decision = await this.#store.take(key, policy);
    if (!decision.allowed) throw rateLimited(detail, decision.retryAfterMs);
  }
}

/** A 429 `RATE_LIMITED` problem with `Retry-After` in whole seconds (at least 1). */
export function rateLimited(detail: string, retryAfterMs: number): AppError {
  return new AppError('RATE_LIMITED', detail, {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

/** An account's bucket key: the normalised email, hashed so that addresses are not kept in clear. */
function accountKey(email: string | undefined): string {
  const normalised = (email ?? '').trim().normalize('NFC').toLowerCase();
  return createHash('sha256').update(normalised).digest('base64url').slice(0, 32);
}
