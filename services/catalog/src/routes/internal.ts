import { Problem, ProductFactsList, ProductLookup } from '@bazaar/contracts';
import { requireService } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../store/db.ts';
import { lookupProducts } from '../store/products.ts';

/** What other services ask the catalog directly (service tokens only). */
export function internalRoutes(app: FastifyInstance, { db }: { db: Queryable }): void {
  app.post<{ Body: ProductLookup }>(
    '/internal/products/lookup',
    {
      // Before body validation, so a caller who may not call learns nothing about the body either.
      preValidation: async (request) => {
        requireService(request, 'cart', 'orders', 'inventory');
      },
      schema: {
        operationId: 'lookupProducts',
        summary: 'Facts of up to 100 products (cart, orders, inventory); hidden included, unknown left out',
        body: ProductLookup,
        response: { 200: ProductFactsList, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => ({ items: await lookupProducts(db, request.body.ids) }),
  );
}
