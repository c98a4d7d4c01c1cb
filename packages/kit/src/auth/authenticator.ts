import type { Revocations } from '@bazaar/contracts';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../time.ts';
import { authMetrics } from './auth-metrics.ts';
import { type FailureLog, failureLog } from './identity-api.ts';
import { JwksCache } from './jwks-cache.ts';
import { RevocationList } from './revocation-list.ts';
import { TokenVerifier } from './token-verifier.ts';

/** Where the verifier gets identity's keys and revocations from. */
export interface AuthSources {
  jwks(): Promise<unknown>;
  /** Absent: nothing is ever revoked before it expires (identity's own instances judge that themselves). */
  revocations?(): Promise<Revocations>;
}

/** What `Authenticator` needs. */
export interface AuthenticatorOptions {
  /** This service's name: the audience of the service tokens it accepts. */
  service: string;
  sources: AuthSources;
  clock: Clock;
  metrics: Registry;
  log: Logger;
  /** QUALITY: keys refreshed at least every 60 s; an unknown kid refreshes at most once per 30 s. */
  jwksRefreshMs?: number;
  unknownKidCooldownMs?: number;
  /** How often identity's revocation list is read (30 s: a disabled user is out within a minute). */
  revocationPollMs?: number;
  /** Verified tokens remembered. */
  cacheSize?: number;
}

/**
 * Verification of the tokens that come to one instance: the JWKS cache, the revocation list and
 * the verifier over both, with their refreshes, metrics and logs wired in one place.
 */
export class Authenticator {
  readonly keys: JwksCache;
  readonly revocations = new RevocationList();
  readonly verifier: TokenVerifier;
  readonly #sources: AuthSources;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #metrics: ReturnType<typeof authMetrics>;
  #polledAt = Number.NEGATIVE_INFINITY;
  #polling: Promise<void> | undefined;
  readonly #pollFailing: FailureLog;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AuthenticatorOptions) {
    const metrics = authMetrics(options.metrics);
    this.#metrics = metrics;
    this.#sources = options.sources;
    this.#clock = options.clock;
    this.#pollMs = options.revocationPollMs ?? 30_000;
    this.#pollFailing = failureLog(
      options.log,
      'could not read the revocation list',
      'revocation list read again',
    );
    const keysFailing = failureLog(
      options.log,
      'could not fetch the signing keys',
      'signing keys fetched again',
    );
    this.keys = new JwksCache({
      fetch: () => options.sources.jwks(),
      clock: options.clock,
      refreshMs: options.jwksRefreshMs,
      unknownKidCooldownMs: options.unknownKidCooldownMs,
      onFetch: ({ reason, outcome, error }) => {
        metrics.jwksFetches.inc({ reason, outcome });
        if (outcome === 'error') keysFailing.failed(error, { reason });
        else keysFailing.succeeded();
      },
    });
    this.verifier = new TokenVerifier({
      keys: this.keys,
      service: options.service,
      clock: options.clock,
      revocations: this.revocations,
      cacheSize: options.cacheSize,
      onVerify: ({ kind, outcome, reason }) => {
        metrics.verifications.inc({ kind, outcome });
        if (reason) metrics.rejections.inc({ kind, reason });
      },
    });
  }

  /** Reads the revocation list now (single flight). */
  pollRevocations(): Promise<void> {
    const source = this.#sources.revocations;
    if (!source) return Promise.resolve();
    this.#polling ??= (async () => {
      this.#polledAt = this.#clock.now();
      try {
        this.revocations.update(await source.call(this.#sources));
        this.#metrics.revocationPolls.inc({ outcome: 'ok' });
        this.#pollFailing.succeeded();
      } catch (err) {
        this.#metrics.revocationPolls.inc({ outcome: 'error' });
        this.#pollFailing.failed(err);
      }
    })().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  /** Called on every token seen: reads the revocation list in the background when it is due. */
  touch(): void {
    if (this.#clock.now() - this.#polledAt >= this.#pollMs) void this.pollRevocations();
  }

  /** Refreshes keys and revocations on timers, so an idle instance is current when traffic comes. */
  start(): void {
    this.keys.start();
    if (this.#sources.revocations && !this.#timer) {
      void this.pollRevocations();
      this.#timer = setInterval(() => void this.pollRevocations(), this.#pollMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    this.keys.stop();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
