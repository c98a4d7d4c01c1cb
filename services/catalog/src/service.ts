import { defineService } from '@bazaar/kit';
import { type Static, Type } from 'typebox';
import { productRoutes } from './routes/products.ts';
import { seedCatalog } from './store/seed.ts';
import { DEFAULT_DEMO_MERCHANT_ID } from './store/seed-data.ts';

/** Catalog's own settings, on top of the kit's (which include `BAZAAR_CURRENCY`). */
const CatalogConfig = Type.Object({
  /** The user id of the demo merchant, owner of the seeded products (identity creates that user). */
  BAZAAR_DEMO_MERCHANT_ID: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
type CatalogConfig = Static<typeof CatalogConfig>;

/** Catalog: products and categories, browsing and full-text search; merchants publish and change theirs. */
export default defineService<CatalogConfig>({
  name: 'catalog',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  // Identity's signing keys and revocations verify the tokens of merchants who change products.
  dependencies: ['identity'],
  config: CatalogConfig,
  async seed(client, ctx) {
    const inserted = await seedCatalog(client, {
      merchantId: ctx.config.BAZAAR_DEMO_MERCHANT_ID ?? DEFAULT_DEMO_MERCHANT_ID,
      currency: ctx.config.BAZAAR_CURRENCY,
    });
    if (inserted > 0) ctx.log.info({ products: inserted }, 'seeded the demo catalog');
  },
  routes: productRoutes,
});
