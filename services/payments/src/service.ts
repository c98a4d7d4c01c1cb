import type { ProviderSettings } from '@bazaar/contracts';
import { createPool, defineService, observePool, type Queryable, type ServiceContext } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import type { CardProvider } from './domain/provider.ts';
import type { PaymentSteps } from './payment-steps.ts';
import { meteredProvider } from './provider/metered.ts';
import {
  applyLiveSimulator,
  liveProviderSettings,
  ProviderConfig,
  providerSettings,
} from './provider/settings.ts';
import { simulatedProvider } from './provider/simulated.ts';
import { internalRoutes } from './routes/internal.ts';
import { publicRoutes } from './routes/public.ts';

/** What tests may set instead of the defaults. */
export interface PaymentsOptions {
  /** The provider's settings; default: read from the environment (`BAZAAR_PAYMENT_*`). */
  settings?: ProviderSettings;
  /** The simulated provider's dice; default `Math.random`. */
  random?: () => number;
}

/**
 * Payments: authorizes, captures, voids and refunds each order's payment through a card provider
 * (the simulated one), once per order, with a ledger of every money effect. Orders drives it.
 */
export function paymentsService(options: PaymentsOptions = {}) {
  return defineService<ProviderConfig>({
    name: 'payments',
    version: '0.1.0',
    migrations: new URL('../migrations/', import.meta.url),
    // Identity's signing keys verify orders' service tokens and customers' access tokens.
    dependencies: ['identity'],
    config: ProviderConfig,
    // The config center's `simulator` values replace the environment's once a version is set.
    liveConfig: (values, ctx) => applyLiveSimulator(ctx, values),
    routes: (app, ctx) => {
      const steps: PaymentSteps = {
        db: ctx.db,
        provider: meteredProvider(cardProvider(app, ctx, options), ctx.metrics),
        events: ctx.events,
        currency: ctx.config.BAZAAR_CURRENCY,
      };
      internalRoutes(app, steps);
      publicRoutes(app, ctx.db);
    },
  });
}

/**
 * The simulated provider on its own small pool: each step holds a connection of the service's pool
 * while it waits for the provider, so a provider sharing that pool could wait for itself under load.
 */
function cardProvider(
  app: FastifyInstance,
  ctx: ServiceContext<ProviderConfig>,
  options: PaymentsOptions,
): CardProvider {
  let db: Queryable = ctx.db;
  if (ctx.config.BAZAAR_DATABASE_URL) {
    const pool = createPool({
      url: ctx.config.BAZAAR_DATABASE_URL,
      max: 4,
      application: 'payments-provider',
      log: ctx.log,
      prepare: ctx.config.BAZAAR_DB_PREPARED_STATEMENTS,
    });
    observePool(pool, ctx.metrics, 'provider');
    app.addHook('onClose', () => pool.end());
    db = pool;
  }
  return simulatedProvider({
    db,
    settings: liveProviderSettings(ctx, options.settings ?? providerSettings(ctx.config)),
    random: options.random,
  });
}

/** The payments service with its defaults. */
export default paymentsService();
