import { defineService } from '@bazaar/kit';
import { OrdersConfig } from './config.ts';
import type { CheckoutFeatures } from './domain/checkout-gate.ts';
import { merchantOrderRoutes } from './routes/merchant-orders.ts';
import { orderRoutes } from './routes/orders.ts';
import { ordersRuntime } from './runtime.ts';

/**
 * Orders: checkout and the orders it makes. Orchestrates the checkout saga (domain/saga.ts) across
 * inventory and payments, persisted at every step and resumed by any instance after a crash.
 */
export default defineService<OrdersConfig>({
  name: 'orders',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  // Identity's keys verify customers' tokens; cart and catalog price a checkout; inventory and
  // payments are the saga's participants.
  dependencies: ['identity', 'cart', 'catalog', 'inventory', 'payments'],
  config: OrdersConfig,
  // The config center's `features` switch checkout off, or its failing fast while payments are down.
  liveConfig: (values, ctx) => {
    Object.assign(ordersRuntime(ctx).features, values.features as CheckoutFeatures);
  },
  routes(app, ctx) {
    const runtime = ordersRuntime(ctx);
    orderRoutes(app, runtime);
    merchantOrderRoutes(app, runtime);
  },
  onStart: (ctx) => ordersRuntime(ctx).start(),
  onStop: (ctx) => ordersRuntime(ctx).stop(),
});
