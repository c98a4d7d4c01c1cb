import type { ServerResponse } from 'node:http';
import type { ConfigPushed, Service } from '@bazaar/contracts';
import pg from 'pg';
import type { Logger } from 'pino';
import { CONFIG_CHANNEL, currentVersions } from './store/config.ts';
import { CHANGES_CHANNEL, listServices } from './store/instances.ts';

/**
 * Fans registry changes out to watchers (server-sent events). Changes arrive through Postgres
 * LISTEN/NOTIFY, so every replica sharing the database tells its own watchers about every change,
 * whichever replica made it. Changes of one service within a few milliseconds are sent once. A new
 * version of a service's live config goes out at once as a `config` event `{service, version}`.
 */
export class WatchHub {
  readonly #db: pg.Pool;
  readonly #url: string;
  readonly #log: Logger;
  readonly #watchers = new Set<ServerResponse>();
  readonly #pending = new Set<string>();
  #flushTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #listener: pg.Client | undefined;
  #stopped = false;

  constructor(options: { db: pg.Pool; url: string; log: Logger }) {
    this.#db = options.db;
    this.#url = options.url;
    this.#log = options.log;
  }

  get watchers(): number {
    return this.#watchers.size;
  }

  async start(): Promise<void> {
    await this.#listen();
    this.#pingTimer = setInterval(() => this.#write(': ping\n\n'), 10_000);
    this.#pingTimer.unref();
  }

  /** Adds a watcher: headers, then a snapshot of every service. */
  async add(res: ServerResponse): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.#watchers.add(res);
    res.on('close', () => this.#watchers.delete(res));
    const services = await listServices(this.#db);
    res.write(`event: snapshot\ndata: ${JSON.stringify({ services })}\n\n`);
  }

  /** Ends every watch stream (the registry is stopping; watchers reconnect elsewhere). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#flushTimer);
    for (const res of this.#watchers) res.end();
    this.#watchers.clear();
    await this.#listener?.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: 'registry-listener' });
    client.on('notification', (msg) => {
      if (msg.channel === CHANGES_CHANNEL && msg.payload) this.#changed(msg.payload);
      else if (msg.channel === CONFIG_CHANNEL && msg.payload) this.#configChanged(msg.payload);
    });
    client.on('error', (err) => {
      this.#log.warn({ err: err.message }, 'change listener lost; reconnecting');
      void this.#reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    await client.query(`LISTEN ${CONFIG_CHANNEL}`);
    this.#listener = client;
  }

  async #reconnect(): Promise<void> {
    await this.#listener?.end().catch(() => undefined);
    this.#listener = undefined;
    for (let delay = 250; !this.#stopped; delay = Math.min(delay * 2, 5_000)) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.#listen();
        // Changes may have been missed while away: send everyone a fresh snapshot.
        const services = await listServices(this.#db);
        this.#write(`event: snapshot\ndata: ${JSON.stringify({ services })}\n\n`);
        for (const pushed of await currentVersions(this.#db)) this.#writeConfig(pushed);
        return;
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'change listener still down');
      }
    }
  }

  #changed(service: string): void {
    this.#pending.add(service);
    this.#flushTimer ??= setTimeout(() => void this.#flush(), 5);
  }

  async #flush(): Promise<void> {
    this.#flushTimer = undefined;
    const names = [...this.#pending];
    this.#pending.clear();
    for (const name of names) {
      try {
        const [service] = await listServices(this.#db, name);
        const data: Service = service ?? { name, instances: [] };
        this.#write(`event: service\ndata: ${JSON.stringify(data)}\n\n`);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, service: name }, 'change not pushed');
      }
    }
  }

  #configChanged(payload: string): void {
    try {
      this.#writeConfig(JSON.parse(payload) as ConfigPushed);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'config change not pushed');
    }
  }

  #writeConfig(pushed: ConfigPushed): void {
    const data: ConfigPushed = { service: pushed.service, version: pushed.version };
    this.#write(`event: config\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #write(text: string): void {
    for (const res of this.#watchers) res.write(text);
  }
}
