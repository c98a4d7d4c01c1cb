import type { ServiceContext } from '@bazaar/kit';
import type pg from 'pg';

/** How a `ChangeListener` is wired: its connection, channel and what to tell whom. */
export interface ChangeListenerOptions {
  /** A new, unconnected client for the listening connection (not one of the pool's). */
  connect: () => pg.Client;
  channel: string;
  /** A notice arrived on the channel, with its payload. */
  onNotice: (payload: string) => void;
  /** Listening (again). `reconnected` after a lost connection: notices may have gone unheard. */
  onListening: (reconnected: boolean) => void;
  /** The connection is lost: until `onListening`, notices go unheard. */
  onLost: () => void;
  log: ServiceContext['log'];
  /** Pause before the first retry, doubling up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * LISTENs on a PostgreSQL channel over a connection of its own, and reconnects when it is lost,
 * with a growing pause between attempts. Notices sent while it was away are not replayed: that is
 * what `onListening(true)` is for.
 */
export class ChangeListener {
  readonly #options: ChangeListenerOptions;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryMs: number;
  #everListened = false;
  #stopped = false;

  constructor(options: ChangeListenerOptions) {
    this.#options = options;
    this.#retryMs = options.minRetryMs ?? 100;
  }

  /** Whether notices are being heard now. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Makes the first attempt (a failure is retried in the background). */
  async start(): Promise<void> {
    await this.#attempt();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    const { channel, log } = this.#options;
    const client = this.#options.connect();
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      client.end().catch(() => undefined);
      if (this.#client === client) {
        this.#client = undefined;
        this.#options.onLost();
      }
      if (this.#stopped) return;
      log.warn({ err: err?.message, retryInMs: this.#retryMs }, `not listening on ${channel}: retrying`);
      this.#timer = setTimeout(() => void this.#attempt(), this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, this.#options.maxRetryMs ?? 5_000);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (notice) => {
      if (notice.channel === channel && notice.payload) this.#options.onNotice(notice.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (lost) return;
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#retryMs = this.#options.minRetryMs ?? 100;
    const reconnected = this.#everListened;
    this.#everListened = true;
    if (reconnected) log.info(`listening on ${channel} again`);
    this.#options.onListening(reconnected);
  }
}
