import { EventEmitter } from 'node:events';
import type { ConfigPushed, Instance, Service, ServiceList } from '@bazaar/contracts';
import { createParser } from 'eventsource-parser';
import type { Logger } from 'pino';
import { request } from 'undici';
import { sleep } from '../time.ts';

/** Where a client finds the instances of a service. */
export interface InstanceSource {
  /** The `up` instances of `service` as last seen; keeps answering while the registry is away. */
  instances(service: string): readonly Instance[];
  on(event: 'change', listener: (service: string) => void): unknown;
}

/**
 * A local cache of the registry, kept current by its watch stream (server-sent events). When the
 * stream breaks it reconnects with backoff, trying each registry URL, and meanwhile keeps serving
 * the last list it saw. Emits `change` (service name), `config` (a service's live config changed:
 * `{service, version}`), `connected` and `disconnected`.
 */
export class RegistryWatch extends EventEmitter implements InstanceSource {
  readonly #urls: string[];
  readonly #log: Logger;
  readonly #all = new Map<string, Instance[]>();
  readonly #up = new Map<string, readonly Instance[]>();
  #controller = new AbortController();
  #connected = false;
  #stopped = false;
  #firstSnapshot: Promise<void>;
  #resolveFirst!: () => void;

  constructor(options: { urls: string[]; log: Logger }) {
    super();
    this.#urls = options.urls;
    this.#log = options.log;
    this.#firstSnapshot = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
  }

  /** Whether the watch stream is connected now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Starts watching; resolves at the first snapshot, or after `waitMs` when the registry is away. */
  async start(waitMs = 3_000): Promise<void> {
    void this.#loop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#firstSnapshot,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  stop(): void {
    this.#stopped = true;
    this.#controller.abort();
  }

  instances(service: string): readonly Instance[] {
    return this.#up.get(service) ?? [];
  }

  /** Every service and instance as last seen, whatever their status. */
  services(): Service[] {
    return [...this.#all.entries()]
      .map(([name, instances]) => ({ name, instances }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  #apply(service: Service): void {
    this.#all.set(service.name, service.instances);
    const up = service.instances.filter((i) => i.status === 'up');
    const before = this.#up.get(service.name) ?? [];
    if (before.length !== up.length || before.some((b, i) => b.id !== up[i]?.id)) {
      this.#up.set(service.name, up);
      this.emit('change', service.name);
    } else {
      this.#up.set(service.name, up);
    }
  }

  #snapshot(list: ServiceList): void {
    const seen = new Set(list.services.map((s) => s.name));
    for (const s of list.services) this.#apply(s);
    for (const name of [...this.#all.keys()]) {
      if (!seen.has(name)) this.#apply({ name, instances: [] });
    }
    this.#resolveFirst();
  }

  async #loop(): Promise<void> {
    let failures = 0;
    let index = 0;
    while (!this.#stopped) {
      const url = this.#urls[index % this.#urls.length]!;
      try {
        await this.#stream(url);
        failures = 0;
      } catch (err) {
        if (this.#stopped) break;
        failures++;
        index++;
        if (failures === 1)
          this.#log.warn({ err: (err as Error).message }, 'registry watch lost; using cached instances');
      }
      if (this.#connected) {
        this.#connected = false;
        this.emit('disconnected');
      }
      if (this.#stopped) break;
      await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)), this.#controller.signal).catch(
        () => undefined,
      );
    }
  }

  async #stream(url: string): Promise<void> {
    const res = await request(`${url}/v1/watch`, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal: this.#controller.signal,
      headersTimeout: 3_000,
      // The registry sends a comment every 10 s; silence for 30 s means a dead stream.
      bodyTimeout: 30_000,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`watch answered ${res.statusCode}`);
    }
    this.#connected = true;
    this.emit('connected');
    const parser = createParser({
      onEvent: (message) => {
        try {
          if (message.event === 'snapshot') this.#snapshot(JSON.parse(message.data) as ServiceList);
          else if (message.event === 'service') this.#apply(JSON.parse(message.data) as Service);
          else if (message.event === 'config') this.emit('config', JSON.parse(message.data) as ConfigPushed);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message }, 'bad registry event ignored');
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
    throw new Error('watch stream ended');
  }
}
