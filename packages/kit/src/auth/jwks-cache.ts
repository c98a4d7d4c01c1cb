import { TOKEN_ALG } from '@bazaar/contracts';
import { type CryptoKey, importJWK } from 'jose';
import type { Clock } from '../time.ts';
import { KeysUnavailable } from './principal.ts';

/** Why the key set was fetched (a bounded set: it labels a metric). */
export type JwksFetchReason = 'initial' | 'periodic' | 'stale' | 'unknown-kid';

/** What `JwksCache` needs. */
export interface JwksCacheOptions {
  /** Fetches the JWKS document (`{keys: [...]}`); throws when identity cannot be reached. */
  fetch: () => Promise<unknown>;
  clock: Clock;
  /** The set is fetched again at least this often (QUALITY: 60 s). */
  refreshMs?: number;
  /** An unknown `kid` triggers a fetch only when the last one is at least this old (QUALITY: 30 s). */
  unknownKidCooldownMs?: number;
  /**
   * A failed fetch is not retried sooner than this (before the first set, or for a stale one).
   * Until a first set is loaded, a started cache retries on its own from this delay, doubling up to
   * `refreshMs`.
   */
  retryMs?: number;
  /** Told of every fetch and its outcome (the kit counts them in `bazaar_auth_jwks_fetches_total`). */
  onFetch?: (event: { reason: JwksFetchReason; outcome: 'ok' | 'error'; error?: unknown }) => void;
}

interface Entry {
  x: string;
  key: CryptoKey;
}

/**
 * The identity service's public signing keys, cached by `kid`: fetched at first use, again at least
 * every `refreshMs`, and for an unknown `kid` at most once per `unknownKidCooldownMs`, so a flood of
 * made-up `kid`s costs identity nothing. A failed fetch keeps the last set. Only Ed25519 (EdDSA)
 * signing keys are taken from the document; anything else in it is ignored.
 */
export class JwksCache {
  readonly #fetch: () => Promise<unknown>;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #cooldownMs: number;
  readonly #retryMs: number;
  readonly #onFetch: JwksCacheOptions['onFetch'];
  #keys = new Map<string, Entry>();
  #loaded = false;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastSuccessAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #initialFailures = 0;

  constructor(options: JwksCacheOptions) {
    this.#fetch = options.fetch;
    this.#clock = options.clock;
    this.#refreshMs = options.refreshMs ?? 60_000;
    this.#cooldownMs = options.unknownKidCooldownMs ?? 30_000;
    this.#retryMs = options.retryMs ?? 1_000;
    this.#onFetch = options.onFetch;
  }

  /** Whether a key set has been fetched at least once. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Whether `kid` is in the set as last fetched (cached verifications of its tokens stay good). */
  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** The key ids of the set as last fetched. */
  kids(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * The public key `kid`, or undefined when identity does not publish it. Throws `KeysUnavailable`
   * when no key set could ever be fetched.
   */
  async key(kid: string): Promise<CryptoKey | undefined> {
    if (!this.#loaded) {
      if (this.#clock.now() - this.#lastAttemptAt < this.#retryMs && !this.#inflight) {
        throw new KeysUnavailable('the signing keys could not be fetched');
      }
      await this.#refresh('initial').catch(() => undefined);
      if (!this.#loaded) throw new KeysUnavailable('the signing keys could not be fetched');
    }
    const known = this.#keys.get(kid);
    if (known) {
      this.refreshIfStale();
      return known.key;
    }
    if (this.#clock.now() - this.#lastAttemptAt < this.#cooldownMs) return undefined;
    await this.#refresh('unknown-kid').catch(() => undefined);
    return this.#keys.get(kid)?.key;
  }

  /** Starts a background fetch when the set is older than `refreshMs` (cheap to call on every use). */
  refreshIfStale(): void {
    const now = this.#clock.now();
    if (
      this.#loaded &&
      now - this.#lastSuccessAt >= this.#refreshMs &&
      now - this.#lastAttemptAt >= this.#retryMs
    ) {
      void this.#refresh('stale').catch(() => undefined);
    }
  }

  /** Fetches the set now (single flight: concurrent callers share one fetch). */
  refresh(): Promise<void> {
    return this.#refresh('periodic');
  }

  /**
   * Fetches the set now when none was ever loaded (identity has just appeared, say), so that the
   * first request need not wait for the fetch or be refused for want of keys.
   */
  loadIfMissing(): void {
    if (!this.#loaded) void this.#refresh('initial').catch(() => undefined);
  }

  /**
   * Fetches the set now (unless already loaded), then every `refreshMs` in the background until
   * `stop()`; until a first set is loaded, a failed fetch is retried after `retryMs`, doubling up to
   * `refreshMs`.
   */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#refresh('periodic').catch(() => undefined), this.#refreshMs);
    this.#timer.unref();
    this.loadIfMissing();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    this.#timer = undefined;
    this.#retryTimer = undefined;
  }

  #refresh(reason: JwksFetchReason): Promise<void> {
    this.#inflight ??= this.#load(reason).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(reason: JwksFetchReason): Promise<void> {
    this.#lastAttemptAt = this.#clock.now();
    try {
      const document = await this.#fetch();
      this.#keys = await this.#read(document);
      this.#loaded = true;
      this.#lastSuccessAt = this.#clock.now();
      this.#onFetch?.({ reason, outcome: 'ok' });
    } catch (error) {
      this.#onFetch?.({ reason, outcome: 'error', error });
      if (!this.#loaded) this.#retryLater();
      throw error;
    }
  }

  /** While started and without a first set: one more fetch after a doubling delay. */
  #retryLater(): void {
    if (!this.#timer || this.#retryTimer) return;
    const delay = Math.min(this.#retryMs * 2 ** this.#initialFailures++, this.#refreshMs);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.loadIfMissing();
    }, delay);
    this.#retryTimer.unref();
  }

  async #read(document: unknown): Promise<Map<string, Entry>> {
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error('the JWKS document has no keys array');
    const next = new Map<string, Entry>();
    for (const jwk of keys as Record<string, unknown>[]) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const { kid, kty, crv, x, alg, use } = jwk;
      if (typeof kid !== 'string' || kid === '' || typeof x !== 'string') continue;
      if (kty !== 'OKP' || crv !== 'Ed25519') continue;
      if (alg !== undefined && alg !== TOKEN_ALG) continue;
      if (use !== undefined && use !== 'sig') continue;
      const previous = this.#keys.get(kid);
      if (previous && previous.x === x) {
        next.set(kid, previous);
        continue;
      }
      try {
        const key = await importJWK({ kty, crv, x }, TOKEN_ALG);
        next.set(kid, { x, key: key as CryptoKey });
      } catch {
        // A key that does not import is one nobody can have signed with: leave it out.
      }
    }
    return next;
  }
}
