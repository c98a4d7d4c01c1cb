import type { AppliedConfig, ConfigDocument } from '@bazaar/contracts';
import type { Logger } from 'pino';
import type { TObject } from 'typebox';
import Value from 'typebox/value';
import { request } from 'undici';
import { checkLiveConfig } from './check.ts';

/** What routes and jobs read of the instance's live config (`ctx.liveConfig`). */
export interface LiveConfigView {
  /** The version applied; 0 while none was ever set (the environment's settings hold). */
  readonly version: number;
  /** The values applied, defaults filled; the schema's defaults at version 0. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Options of {@link LiveConfig}. */
export interface LiveConfigOptions {
  /** The service's live-config schema (contracts' `LiveConfigSchemas`). */
  schema: TObject;
  /** Reads the service's current config (from the registry); throws when it cannot. */
  fetch: () => Promise<ConfigDocument>;
  /** Applies checked values; throwing refuses them, and the instance keeps what it had. */
  apply: (values: Record<string, unknown>, version: number) => Promise<void> | void;
  log: Logger;
  /** After a failed fetch, the next try (default 5 s). */
  retryMs?: number;
}

/**
 * An instance's live config: fetches the service's current version, checks it against the schema
 * and applies it, keeping the old values (and the reason) when the check or the apply fails. Version
 * 0 (never set) applies nothing, so environment settings are not overridden by schema defaults. A
 * failed fetch keeps the current values and is tried again after `retryMs`.
 */
export class LiveConfig implements LiveConfigView {
  readonly #o: Required<LiveConfigOptions>;
  #version = 0;
  #values: Record<string, unknown>;
  #error: string | null = null;
  /** The version last refused: fetching it again does not retry it. */
  #refused: number | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LiveConfigOptions) {
    this.#o = { retryMs: 5_000, ...options };
    this.#values = Value.Default(options.schema, {}) as Record<string, unknown>;
  }

  get version(): number {
    return this.#version;
  }

  get values(): Readonly<Record<string, unknown>> {
    return this.#values;
  }

  /** What heartbeats report: the version applied, and why the newest one was refused, if it was. */
  applied(): AppliedConfig {
    return { version: this.#version, error: this.#error };
  }

  /** Fetches and applies the current version; a call while one runs makes it run once more. */
  refresh(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#once();
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops retrying. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #once(): Promise<void> {
    clearTimeout(this.#timer);
    let document: ConfigDocument;
    try {
      document = await this.#o.fetch();
    } catch (err) {
      if (!this.#failing)
        this.#o.log.warn(
          { err: (err as Error).message },
          'live config not fetched; keeping the current values',
        );
      this.#failing = true;
      if (!this.#stopped) {
        this.#timer = setTimeout(() => void this.refresh(), this.#o.retryMs);
        this.#timer.unref();
      }
      return;
    }
    this.#failing = false;
    const { version } = document;
    if (version === 0 || version === this.#version || version === this.#refused) return;
    const check = checkLiveConfig(this.#o.schema, document.values);
    if (!check.ok) {
      this.#refuse(version, check.errors.map((e) => `${e.path} ${e.message}`).join('; '));
      return;
    }
    try {
      await this.#o.apply(check.values, version);
    } catch (err) {
      this.#refuse(version, (err as Error).message || String(err));
      return;
    }
    this.#version = version;
    this.#values = check.values;
    this.#error = null;
    this.#refused = undefined;
    this.#o.log.info({ configVersion: version }, 'live config applied');
  }

  #refuse(version: number, reason: string): void {
    this.#refused = version;
    this.#error = `version ${version} not applied: ${reason}`;
    this.#o.log.warn({ configVersion: version, keptVersion: this.#version, reason }, 'live config refused');
  }
}

/**
 * Reads `service`'s current config from the registry (`GET /v1/config/:service` with the service's
 * credential), trying each registry URL in turn.
 */
export function registryConfigFetch(options: {
  urls: string[];
  service: string;
  credential: string;
  timeoutMs?: number;
}): () => Promise<ConfigDocument> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  return async () => {
    const failures: string[] = [];
    for (const url of options.urls) {
      try {
        const res = await request(`${url}/v1/config/${encodeURIComponent(options.service)}`, {
          headers: { authorization: `Bearer ${options.credential}`, accept: 'application/json' },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        if (res.statusCode === 200) return (await res.body.json()) as ConfigDocument;
        await res.body.dump();
        failures.push(`${url} answered ${res.statusCode}`);
      } catch (err) {
        failures.push(`${url}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no registry gave the config (${failures.join('; ')})`);
  };
}
