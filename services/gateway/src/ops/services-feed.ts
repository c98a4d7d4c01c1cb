import type { OpsServiceList } from '@bazaar/contracts';
import type { RegistryView } from '@bazaar/kit';

/** Timing of the feed; the defaults suit the console. */
export interface FeedTiming {
  /** Registry changes closer together than this are sent as one list. */
  coalesceMs: number;
  /** The list is sent this often anyway, so circuits and heartbeats stay fresh. */
  refreshMs: number;
  /** A comment this often keeps proxies from closing an idle stream. */
  pingMs: number;
}

const DEFAULT_TIMING: FeedTiming = { coalesceMs: 250, refreshMs: 5_000, pingMs: 15_000 };

/** One watcher's stream: takes server-sent-events frames, and is ended when the feed closes. */
export interface Watcher {
  send(frame: string): void;
  end(): void;
}

/**
 * The ops console's live view, shared by every watcher: the services list as a `services` event
 * when a watcher joins, after registry changes (bursts coalesced), and every few seconds; a
 * `: ping` comment now and then. One registry listener and one set of timers serve all watchers,
 * and they run only while someone watches.
 */
export class ServicesFeed {
  readonly #list: () => OpsServiceList;
  readonly #changes: Pick<RegistryView, 'on' | 'off'> | undefined;
  readonly #timing: FeedTiming;
  readonly #watchers = new Set<Watcher>();
  readonly #onChange = () => this.#schedule();
  #refresh: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;
  #lastSentAt = 0;

  constructor(options: {
    list: () => OpsServiceList;
    changes?: Pick<RegistryView, 'on' | 'off'>;
    timing?: Partial<FeedTiming>;
  }) {
    this.#list = options.list;
    this.#changes = options.changes;
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  /** How many watch now. */
  get watchers(): number {
    return this.#watchers.size;
  }

  /** Adds a watcher and sends it the list at once; returns how to remove it. */
  subscribe(watcher: Watcher): () => void {
    if (this.#watchers.size === 0) this.#begin();
    this.#watchers.add(watcher);
    watcher.send(this.#frame());
    return () => {
      if (this.#watchers.delete(watcher) && this.#watchers.size === 0) this.#end();
    };
  }

  /** Ends every watcher's stream (the app is closing). */
  close(): void {
    const watchers = [...this.#watchers];
    this.#watchers.clear();
    this.#end();
    for (const watcher of watchers) watcher.end();
  }

  #begin(): void {
    this.#changes?.on('change', this.#onChange);
    this.#refresh = setInterval(() => this.#broadcast(), this.#timing.refreshMs);
    this.#ping = setInterval(() => this.#send(': ping\n\n'), this.#timing.pingMs);
  }

  #end(): void {
    this.#changes?.off('change', this.#onChange);
    clearInterval(this.#refresh);
    clearInterval(this.#ping);
    clearTimeout(this.#pending);
    this.#pending = undefined;
  }

  /** After a change: send now, or once `coalesceMs` has passed since the last send. */
  #schedule(): void {
    if (this.#pending) return;
    const wait = Math.max(0, this.#lastSentAt + this.#timing.coalesceMs - Date.now());
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#broadcast();
    }, wait);
  }

  #broadcast(): void {
    if (this.#watchers.size > 0) this.#send(this.#frame());
  }

  #send(frame: string): void {
    for (const watcher of this.#watchers) watcher.send(frame);
  }

  #frame(): string {
    this.#lastSentAt = Date.now();
    return `event: services\ndata: ${JSON.stringify(this.#list())}\n\n`;
  }
}
