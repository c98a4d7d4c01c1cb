import type { Clock } from '../time.ts';
import type { ExchangedToken } from './identity-api.ts';

/** What `ServiceTokens` needs. */
export interface ServiceTokensOptions {
  /** Exchanges this service's credential at identity for a token addressed to `audience`. */
  exchange: (audience: string) => Promise<ExchangedToken>;
  clock: Clock;
  /** Share of a token's life after which a new one is fetched (default 0.8). */
  renewAt?: number;
  /** First and longest pause after a failed exchange. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** Whether renewals are scheduled with timers (tests driving a manual clock turn them off). */
  timers?: boolean;
  /** Told of every exchange (the kit counts them and logs failures). */
  onExchange?: (event: { audience: string; outcome: 'ok' | 'error'; error?: unknown }) => void;
}

interface Slot {
  token: string | undefined;
  expiresAt: number;
  renewAt: number;
  inflight: Promise<void> | undefined;
  failures: number;
  nextAttemptAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** Margin before expiry within which a token is no longer handed out (it could expire in flight). */
const EXPIRY_MARGIN_MS = 2_000;

/**
 * This instance's service tokens, one per callee (audience), exchanged at identity for its own
 * credential. `current()` is synchronous, for the client's `serviceToken` option: it answers the
 * token in hand and starts a renewal in the background once 80 % of its life is spent (one
 * exchange at a time per audience, with backoff after failures). A call made before the first
 * token arrives goes without one, and the callee decides.
 */
export class ServiceTokens {
  readonly #exchange: ServiceTokensOptions['exchange'];
  readonly #clock: Clock;
  readonly #renewShare: number;
  readonly #minRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #timers: boolean;
  readonly #onExchange: ServiceTokensOptions['onExchange'];
  readonly #slots = new Map<string, Slot>();
  #stopped = false;

  constructor(options: ServiceTokensOptions) {
    this.#exchange = options.exchange;
    this.#clock = options.clock;
    this.#renewShare = options.renewAt ?? 0.8;
    this.#minRetryMs = options.minRetryMs ?? 1_000;
    this.#maxRetryMs = options.maxRetryMs ?? 10_000;
    this.#timers = options.timers ?? true;
    this.#onExchange = options.onExchange;
  }

  /** The token to send to `audience` now, if one is in hand; renews it in the background when due. */
  current(audience: string): string | undefined {
    const slot = this.#slot(audience);
    const now = this.#clock.now();
    if (now >= slot.renewAt && now >= slot.nextAttemptAt) void this.#renew(audience, slot);
    return slot.token !== undefined && now < slot.expiresAt - EXPIRY_MARGIN_MS ? slot.token : undefined;
  }

  /** Starts fetching tokens for these audiences, so the first calls already carry one. */
  prepare(audiences: Iterable<string>): void {
    for (const audience of audiences) this.current(audience);
  }

  /** Waits for the exchange in flight for `audience`, if any, and answers the current token. */
  async ready(audience: string): Promise<string | undefined> {
    const token = this.current(audience);
    await this.#slots.get(audience)?.inflight;
    return this.current(audience) ?? token;
  }

  /** Retries at once the audiences whose last exchange failed (identity just came up). */
  retryFailed(): void {
    for (const [audience, slot] of this.#slots) {
      if (slot.failures > 0) {
        slot.nextAttemptAt = 0;
        void this.#renew(audience, slot);
      }
    }
  }

  /** Stops renewing. */
  stop(): void {
    this.#stopped = true;
    for (const slot of this.#slots.values()) clearTimeout(slot.timer);
  }

  #slot(audience: string): Slot {
    let slot = this.#slots.get(audience);
    if (!slot) {
      slot = {
        token: undefined,
        expiresAt: 0,
        renewAt: 0,
        inflight: undefined,
        failures: 0,
        nextAttemptAt: 0,
        timer: undefined,
      };
      this.#slots.set(audience, slot);
    }
    return slot;
  }

  #renew(audience: string, slot: Slot): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    slot.inflight ??= this.#exchangeInto(audience, slot).finally(() => {
      slot.inflight = undefined;
    });
    return slot.inflight;
  }

  async #exchangeInto(audience: string, slot: Slot): Promise<void> {
    try {
      const { token, expiresIn } = await this.#exchange(audience);
      const now = this.#clock.now();
      slot.token = token;
      slot.expiresAt = now + expiresIn * 1000;
      slot.renewAt = now + expiresIn * 1000 * this.#renewShare;
      slot.failures = 0;
      slot.nextAttemptAt = 0;
      this.#onExchange?.({ audience, outcome: 'ok' });
      this.#schedule(audience, slot, slot.renewAt - now);
    } catch (error) {
      slot.failures++;
      const pause = Math.min(this.#maxRetryMs, this.#minRetryMs * 2 ** (slot.failures - 1));
      slot.nextAttemptAt = this.#clock.now() + pause;
      this.#onExchange?.({ audience, outcome: 'error', error });
      this.#schedule(audience, slot, pause);
    }
  }

  /** Renews in `ms` even if no call asks, so a quiet instance still has a good token when one comes. */
  #schedule(audience: string, slot: Slot, ms: number): void {
    if (!this.#timers || this.#stopped) return;
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => void this.#renew(audience, slot), Math.max(0, ms));
    slot.timer.unref();
  }
}
