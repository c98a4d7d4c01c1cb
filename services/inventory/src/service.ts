import { defineService, type ServiceDefinition } from '@bazaar/kit';
import { InventoryConfig } from './config.ts';
import { productOwners } from './consumers/product-owners.ts';
import { startExpiry } from './jobs/expiry.ts';
import { inventoryMetrics } from './metrics.ts';
import { reservationRoutes } from './routes/reservations.ts';
import { stockRoutes } from './routes/stock.ts';

/**
 * Inventory: stock per product and the reservations of orders. Merchants set their products'
 * stock; orders reserves, commits, releases and returns it through internal routes, each
 * idempotent on the order id; reservations not committed in time expire. Every movement is a
 * ledger row and an `inventory.stock-changed` event, in the transaction that makes it.
 */
export function inventoryService(): ServiceDefinition<InventoryConfig> {
  let expiry: { stop(): Promise<void> } | undefined;
  return defineService<InventoryConfig>({
    name: 'inventory',
    version: '0.1.0',
    migrations: new URL('../migrations/', import.meta.url),
    // Identity verifies merchants' and orders' tokens; catalog names the owner of a product inventory
    // has not heard of yet.
    dependencies: ['identity', 'catalog'],
    config: InventoryConfig,
    consumers: [productOwners],
    async routes(app, ctx) {
      await app.register(async (scope) => stockRoutes(scope, ctx));
      await app.register(async (scope) => reservationRoutes(scope, ctx));
    },
    onStart(ctx) {
      expiry = startExpiry({
        deps: ctx,
        clock: ctx.clock,
        log: ctx.log,
        metrics: inventoryMetrics(ctx.metrics),
        everyMs: ctx.config.BAZAAR_RESERVATION_EXPIRY_INTERVAL_MS,
      });
    },
    async onStop() {
      await expiry?.stop();
      expiry = undefined;
    },
  });
}

/** The inventory service, as `main.ts` starts it. */
export default inventoryService();
