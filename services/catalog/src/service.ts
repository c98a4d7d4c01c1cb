import { Events } from '@bazaar/contracts';
import { defineService } from '@bazaar/kit';
import { type Static, Type } from 'typebox';
import { keepAvailability } from './availability.ts';
import { startProductCache } from './cache/product-cache.ts';
import { Catalog } from './catalog.ts';
import { internalRoutes } from './routes/internal.ts';
import { productRoutes } from './routes/products.ts';
import { inTransaction } from './store/db.ts';
import { seedCatalog } from './store/seed.ts';
import { DEFAULT_DEMO_MERCHANT_ID } from './store/seed-data.ts';

/** Catalog's own settings, on top of the kit's (which include `BAZAAR_CURRENCY`). */
const CatalogConfig = Type.Object({
  /** The user id of the demo merchant, owner of the seeded products (identity creates that user). */
  BAZAAR_DEMO_MERCHANT_ID: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Redis shared by every catalog instance for product reads; without it each keeps its own. */
  BAZAAR_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
});
type CatalogConfig = Static<typeof CatalogConfig>;

/**
 * Catalog: products and categories, browsing and full-text search; merchants publish, change and
 * hide theirs, each change announced as events. Product reads are cached (in process, or in Redis)
 * and dropped on every change; `available` is kept from inventory's stock events.
 */
export default defineService<CatalogConfig>({
  name: 'catalog',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  // Identity's signing keys and revocations verify the tokens of merchants who change products.
  dependencies: ['identity'],
  config: CatalogConfig,
  async seed(client, ctx) {
    const inserted = await inTransaction(client, (tx) =>
      seedCatalog(tx, {
        merchantId: ctx.config.BAZAAR_DEMO_MERCHANT_ID ?? DEFAULT_DEMO_MERCHANT_ID,
        currency: ctx.config.BAZAAR_CURRENCY,
        events: ctx.events,
      }),
    );
    if (inserted > 0) ctx.log.info({ products: inserted }, 'seeded the demo catalog');
  },
  consumers: [{ name: 'availability', events: [Events.stockChanged], handle: keepAvailability }],
  async routes(app, ctx) {
    const { cache, stop } = await startProductCache({
      db: ctx.db,
      redisUrl: ctx.config.BAZAAR_REDIS_URL,
      metrics: ctx.metrics,
      log: ctx.log,
      clock: ctx.clock,
      application: `${ctx.instanceId}:product-cache`,
    });
    app.addHook('onClose', stop);
    const catalog = new Catalog({
      db: ctx.db,
      events: ctx.events,
      cache,
      currency: ctx.config.BAZAAR_CURRENCY,
    });
    productRoutes(app, { db: ctx.db, catalog });
    internalRoutes(app, { db: ctx.db });
  },
});
