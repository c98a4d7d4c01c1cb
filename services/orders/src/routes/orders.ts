import {
  Checkout,
  IdempotencyKey,
  Order,
  OrderPage,
  type Order as OrderView,
  PageQuery,
  Problem,
} from '@bazaar/contracts';
import { AppError, assertOwnerOrAdmin, requireRole, requireUser } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { cancelOrder } from '../cancellation.ts';
import { checkout } from '../checkout.ts';
import { isUuid } from '../domain/ids.ts';
import type { OrdersRuntime } from '../runtime.ts';
import { listOrders, loadOrder } from '../store/orders.ts';
import { nextCursor, readCursor } from './paging.ts';

const TAGS = ['orders'];
const OrderParams = Type.Object({
  // Not `format: uuid`: a malformed id is answered like an unknown one, 404, so ids leak nothing.
  id: Type.String({ maxLength: 64, description: 'The order id (a UUID).' }),
});
const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
const CheckoutHeaders = Type.Object({
  'idempotency-key': Type.Optional({
    ...IdempotencyKey,
    description: 'Required: makes the checkout safe to repeat.',
  }),
});
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** Checkout, the caller's orders, one order, and cancellation. */
export function orderRoutes(scope: FastifyInstance, runtime: OrdersRuntime): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = runtime;

  app.post(
    '/api/orders',
    {
      schema: {
        tags: TAGS,
        operationId: 'checkout',
        summary: "Check out the caller's cart (customers)",
        description:
          'Lines and prices come from the cart and the catalog now. 201 when the order ended (CONFIRMED or ' +
          'CANCELLED) within about 2 s, else 202 with the PENDING order and `Location`; a repeated ' +
          '`Idempotency-Key` with the same body answers the order as it is now (200).',
        headers: CheckoutHeaders,
        body: Checkout,
        response: { 200: Order, 201: Order, 202: Order, ...errors, 422: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const customer = requireRole(request, 'customer');
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey === undefined) {
        throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header with every checkout.');
      }
      const answer = await checkout(runtime.checkout, {
        customerId: customer.id,
        idempotencyKey,
        body: request.body,
        deadlineMs: request.bazaar.deadline.remaining(),
      });
      return reply
        .code(answer.status)
        .header('location', `/api/orders/${answer.order.id}`)
        .send(answer.order);
    },
  );

  app.get(
    '/api/orders',
    {
      schema: {
        tags: TAGS,
        operationId: 'listOrders',
        summary: "The caller's orders, newest first (admins: everybody's)",
        querystring: ListQuery,
        response: { 200: OrderPage, 400: Problem, 401: Problem },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const page = await listOrders(db, {
        // Ownership is the filter itself: a customer's list can only ever hold their own orders.
        customerId: user.role === 'admin' ? undefined : user.id,
        limit: request.query.limit ?? 20,
        after: readCursor(request.query.cursor),
      });
      return { items: page.items.map((o) => o.toView()), nextCursor: nextCursor(page.next) };
    },
  );

  app.get(
    '/api/orders/:id',
    {
      schema: {
        tags: TAGS,
        operationId: 'getOrder',
        summary: 'One order (its customer, admins)',
        params: OrderParams,
        response: { 200: Order, 401: Problem, 404: Problem },
      },
    },
    async (request): Promise<OrderView> => {
      requireUser(request);
      const stored = isUuid(request.params.id) ? await loadOrder(db, request.params.id) : undefined;
      if (!stored) throw new AppError('ORDER_NOT_FOUND', 'No such order.');
      assertOwnerOrAdmin(request, stored.order.customerId, 'ORDER_NOT_FOUND', 'No such order.');
      return stored.order.toView();
    },
  );

  app.post(
    '/api/orders/:id/cancel',
    {
      schema: {
        tags: TAGS,
        operationId: 'cancelOrder',
        summary: 'Cancel an order (its customer, admins)',
        description:
          'PENDING or CONFIRMED → CANCELLED (CUSTOMER_CANCELLED): stock returned, payment voided or refunded. ' +
          '200 with the cancelled order, or 202 while that is still under way; 409 if already cancelled.',
        params: OrderParams,
        response: { 200: Order, 202: Order, ...errors },
      },
    },
    async (request, reply) => {
      requireUser(request);
      const answer = await cancelOrder(runtime.cancellation, request, request.params.id);
      return reply.code(answer.status).send(answer.order);
    },
  );
}
