import { EventEmitter } from 'node:events';
import type { AppliedConfig, Heartbeat, RegisterInstance } from '@bazaar/contracts';
import type { Logger } from 'pino';
import { request } from 'undici';
import { sleep } from '../time.ts';

/** The status of a call to the registry, or `unreachable` when no registry answered. */
type RegistryAnswer = number | 'unreachable';

/**
 * Keeps this instance registered: registers, heartbeats every `heartbeatMs` (registering again when
 * the registry answers 404), and deregisters (→ `draining`) on stop. Tries each registry URL in turn.
 * Each heartbeat carries what `report` says of the instance's live config, when it says anything.
 * Emits `registered`, `lost` (registry unreachable) and `rejected` (credential refused).
 */
export class Registration extends EventEmitter {
  readonly #urls: string[];
  readonly #credential: string | undefined;
  readonly #id: string;
  readonly #body: RegisterInstance;
  readonly #heartbeatMs: number;
  readonly #log: Logger;
  readonly #report: () => AppliedConfig | undefined;
  #urlIndex = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #registered = false;
  #reachable = true;

  constructor(options: {
    urls: string[];
    credential: string | undefined;
    id: string;
    instance: RegisterInstance;
    log: Logger;
    heartbeatMs?: number;
    /** The live-config version applied (and why a newer one was refused), sent with each heartbeat. */
    report?: () => AppliedConfig | undefined;
  }) {
    super();
    this.#urls = options.urls;
    this.#credential = options.credential;
    this.#id = options.id;
    this.#body = options.instance;
    this.#log = options.log;
    this.#heartbeatMs = options.heartbeatMs ?? 2_000;
    this.#report = options.report ?? (() => undefined);
  }

  /** Whether the registry has accepted this instance at least once and it has not deregistered. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Registers, retrying for up to `waitMs`; heartbeats go on in the background either way. */
  async start(waitMs = 10_000): Promise<boolean> {
    const until = Date.now() + waitMs;
    while (!this.#stopped) {
      const status = await this.#register();
      if (status === 200 || status === 201) break;
      if (status === 401 || status === 403) {
        this.emit('rejected', status);
        throw new Error(
          `the registry refused this instance's credential (${status}): check BAZAAR_SERVICE_CREDENTIAL`,
        );
      }
      if (Date.now() >= until) break;
      await sleep(500);
    }
    this.#schedule();
    return this.#registered;
  }

  /** Deregisters (the registry marks the instance `draining`) and stops heartbeating. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#registered) return;
    this.#registered = false;
    const status = await this.#call('DELETE', `/v1/instances/${encodeURIComponent(this.#id)}`);
    if (status !== 204 && status !== 404) this.#log.warn({ status }, 'deregistration not confirmed');
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#beat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const config = this.#report();
    const body: Heartbeat | undefined = config ? { config } : undefined;
    const status = await this.#call('PUT', `/v1/instances/${encodeURIComponent(this.#id)}/heartbeat`, body);
    if (status === 404) {
      this.#log.info('registry does not know this instance: registering again');
      await this.#register();
    } else if (status === 200 || status === 204) {
      this.#markReachable();
    }
    this.#schedule();
  }

  async #register(): Promise<RegistryAnswer> {
    const status = await this.#call('PUT', `/v1/instances/${encodeURIComponent(this.#id)}`, this.#body);
    if (status === 200 || status === 201) {
      if (!this.#registered) this.#log.info({ instanceId: this.#id }, 'registered');
      this.#registered = true;
      this.#markReachable();
      this.emit('registered');
    } else if (status !== 'unreachable') {
      this.#log.warn({ status }, 'registration refused');
    }
    return status;
  }

  #markReachable(): void {
    if (!this.#reachable) this.#log.info('registry reachable again');
    this.#reachable = true;
  }

  /** One call, to the current registry URL, moving to the next URL when it cannot be reached. */
  async #call(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<RegistryAnswer> {
    for (let tried = 0; tried < this.#urls.length; tried++) {
      const url = this.#urls[this.#urlIndex % this.#urls.length]!;
      try {
        const headers: Record<string, string> = {};
        if (this.#credential) headers.authorization = `Bearer ${this.#credential}`;
        if (body !== undefined) headers['content-type'] = 'application/json';
        const res = await request(url + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          headersTimeout: 2_000,
          bodyTimeout: 2_000,
        });
        await res.body.dump();
        return res.statusCode;
      } catch (err) {
        this.#urlIndex++;
        if (tried === this.#urls.length - 1 && this.#reachable) {
          this.#reachable = false;
          this.#log.warn({ err: (err as Error).message }, 'registry unreachable; serving on, retrying');
          this.emit('lost');
        }
      }
    }
    return 'unreachable';
  }
}
