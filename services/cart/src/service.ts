import { Events, type OrderConfirmedEvent } from '@bazaar/contracts';
import { defineService } from '@bazaar/kit';
import { type Carts, removeOrderedLines } from './carts.ts';
import { cartRoutes } from './routes/cart.ts';

/**
 * Cart: one cart per customer, priced from catalog whenever it is shown. Orders reads the stored
 * lines at checkout; a confirmed order takes its lines off the cart.
 */
export default defineService({
  name: 'cart',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  // Identity verifies customers' and orders' tokens; catalog knows products and their prices.
  dependencies: ['identity', 'catalog'],
  consumers: [
    {
      name: 'ordered-lines',
      events: [Events.orderConfirmed],
      // The kit has checked the data against the declared version before this runs.
      handle: (event, tx) => removeOrderedLines(tx, event.data as OrderConfirmedEvent),
    },
  ],
  routes: (app, ctx) => {
    const carts: Carts = {
      db: ctx.db,
      catalog: () => ctx.client('catalog'),
      currency: ctx.config.BAZAAR_CURRENCY,
    };
    cartRoutes(app, carts);
  },
});
