import type { Clock, ServiceContext } from '@bazaar/kit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PRODUCT_CHANGED_CHANNEL } from '../store/change-notices.ts';
import type { FoundProduct } from '../store/products.ts';
import { ChangeListener } from './change-listener.ts';
import { MemoryProductStore } from './memory-store.ts';
import type { ProductStore } from './product-store.ts';
import { RedisProductStore } from './redis-store.ts';

/** How long a cached product may be served at most, even if a change went unheard. */
export const PRODUCT_CACHE_TTL_MS = 60_000;

// What answered a product read: the cache, the database after a miss, or the database alone
// because the cache could not be trusted (notices unheard) or reached.
type LookupResult = 'hit' | 'miss' | 'bypass';

/**
 * Product reads (`GET /api/products/:id`) kept between requests. Only products anyone may see are
 * kept, so a hit never needs a visibility check; a hidden one is read from the database each time.
 * Changes drop entries: the writer right after its commit, and every instance when it hears the
 * change's notice. The cache is used only while notices are heard; after a lost connection it is
 * cleared, since notices sent meanwhile are gone.
 */
export class ProductCache {
  readonly #store: ProductStore;
  readonly #log: ServiceContext['log'];
  readonly #lookups: Counter<'result'>;
  readonly #listeningGauge: Gauge;
  #listening = false;
  // Moves whenever listening starts or stops, so a fill that straddles it is not kept.
  #epoch = 0;
  #storeFailing = false;

  constructor({
    store,
    metrics,
    log,
  }: { store: ProductStore; metrics: Registry; log: ServiceContext['log'] }) {
    this.#store = store;
    this.#log = log;
    this.#lookups = new Counter({
      name: 'bazaar_product_cache_lookups_total',
      help: 'Product reads by id, by what answered them: hit (cache), miss, bypass (cache unusable)',
      labelNames: ['result'],
      registers: [metrics],
    });
    this.#listeningGauge = new Gauge({
      name: 'bazaar_product_cache_listening',
      help: '1 while this instance hears product change notices (its product cache is in use)',
      registers: [metrics],
    });
  }

  /** The product `id`: from the cache, or `load` (the database), caching it when anyone may see it. */
  async read(id: string, load: () => Promise<FoundProduct | null>): Promise<FoundProduct | null> {
    if (!this.#listening) return this.#bypass(load);
    let ticket: string;
    try {
      const cached = await this.#store.get(id);
      this.#storeWorks();
      if ('product' in cached) {
        this.#count('hit');
        return { product: cached.product, hidden: false };
      }
      ticket = cached.ticket;
    } catch (err) {
      this.#storeFailed(err);
      return this.#bypass(load);
    }
    this.#count('miss');
    const epoch = this.#epoch;
    const found = await load();
    if (found && !found.hidden && this.#listening && epoch === this.#epoch) {
      await this.#store.fill(id, found.product, ticket).catch((err) => this.#storeFailed(err));
    }
    return found;
  }

  /** Drops product `id` (it changed). Never throws: the TTL bounds what a failed drop leaves. */
  async invalidate(id: string): Promise<void> {
    await this.#store.drop(id).then(
      () => this.#storeWorks(),
      (err) => this.#storeFailed(err),
    );
  }

  /**
   * Whether change notices are being heard. `reconnected`: some may have been missed, so the store
   * is cleared before it is used again.
   */
  async listening(heard: boolean, { reconnected = false } = {}): Promise<void> {
    const epoch = ++this.#epoch;
    this.#listening = false;
    this.#listeningGauge.set(0);
    if (!heard) return;
    if (reconnected) await this.#store.clear().catch((err) => this.#storeFailed(err));
    // Lost again while clearing: stay off until the next `listening(true)`.
    if (epoch !== this.#epoch) return;
    this.#listening = true;
    this.#listeningGauge.set(1);
  }

  /** Lets go of the store (its Redis connection). */
  async close(): Promise<void> {
    this.#listening = false;
    await this.#store.close();
  }

  async #bypass(load: () => Promise<FoundProduct | null>): Promise<FoundProduct | null> {
    this.#count('bypass');
    return load();
  }

  #count(result: LookupResult): void {
    this.#lookups.inc({ result });
  }

  #storeWorks(): void {
    if (this.#storeFailing) this.#log.info('product cache reachable again');
    this.#storeFailing = false;
  }

  #storeFailed(err: unknown): void {
    if (!this.#storeFailing) {
      this.#log.warn({ err: (err as Error).message }, 'product cache unreachable: reading the database');
    }
    this.#storeFailing = true;
  }
}

/** A started product cache and how to stop it (its listener, then its store). */
export interface RunningProductCache {
  cache: ProductCache;
  stop(): Promise<void>;
}

/**
 * The product cache of one instance, listening for changes on its own connection to the database:
 * in this process, or in Redis when `redisUrl` is given.
 */
export async function startProductCache({
  db,
  redisUrl,
  metrics,
  log,
  clock,
  application,
}: {
  db: pg.Pool;
  redisUrl?: string | undefined;
  metrics: Registry;
  log: ServiceContext['log'];
  clock: Clock;
  /** Names the listening connection in `pg_stat_activity`. */
  application: string;
}): Promise<RunningProductCache> {
  const store: ProductStore = redisUrl
    ? new RedisProductStore({ redis: connectRedis(redisUrl), ttlMs: PRODUCT_CACHE_TTL_MS })
    : new MemoryProductStore({ ttlMs: PRODUCT_CACHE_TTL_MS, clock });
  const cache = new ProductCache({ store, metrics, log });
  const listener = new ChangeListener({
    connect: () =>
      new pg.Client({
        ...db.options,
        // The pool keeps the password off its enumerable options.
        password: db.options.password,
        application_name: application,
        connectionTimeoutMillis: db.options.connectionTimeoutMillis ?? 5_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      }),
    channel: PRODUCT_CHANGED_CHANNEL,
    onNotice: (id) => void cache.invalidate(id),
    onListening: (reconnected) => void cache.listening(true, { reconnected }),
    onLost: () => void cache.listening(false),
    log,
  });
  await listener.start();
  return {
    cache,
    stop: async () => {
      await listener.stop();
      await cache.close();
    },
  };
}

function connectRedis(url: string): Redis {
  const redis = new Redis(url, {
    // A slow or absent Redis must not hold reads: fail fast and read the database.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 250,
    connectTimeout: 2_000,
  });
  redis.on('error', () => undefined);
  return redis;
}
