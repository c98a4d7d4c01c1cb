import { OrderPage, PageQuery, Problem } from '@bazaar/contracts';
import { requireRole } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { OrdersRuntime } from '../runtime.ts';
import { listMerchantOrders } from '../store/orders.ts';
import { nextCursor, readCursor } from './paging.ts';

const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

/** `GET /api/merchant/orders`: the orders holding the caller's products, showing only the caller's lines. */
export function merchantOrderRoutes(scope: FastifyInstance, runtime: OrdersRuntime): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/merchant/orders',
    {
      schema: {
        tags: ['orders'],
        operationId: 'listMerchantOrders',
        summary: "Orders that contain the caller's products (merchants)",
        description:
          "Newest first. Each order shows only the caller's lines, and `total` is the total of those lines.",
        querystring: ListQuery,
        response: { 200: OrderPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const merchant = requireRole(request, 'merchant');
      const page = await listMerchantOrders(runtime.db, {
        merchantId: merchant.id,
        limit: request.query.limit ?? 20,
        after: readCursor(request.query.cursor),
      });
      return { items: page.items.map((o) => o.toView()), nextCursor: nextCursor(page.next) };
    },
  );
}
