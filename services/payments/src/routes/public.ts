import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  PageQuery,
  PaymentList,
  type Position,
  Problem,
} from '@bazaar/contracts';
import { AppError, type Queryable, requireUser } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { toPayment } from '../domain/payment.ts';
import { listPayments } from '../store/payments.ts';

const PaymentListQuery = Type.Object(
  { ...PageQuery, orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);
type PaymentListQuery = Static<typeof PaymentListQuery>;

/** `GET /api/payments`: the caller's own payments (all of them for admins), newest first. */
export function publicRoutes(scope: FastifyInstance, db: Queryable): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/payments',
    {
      schema: {
        tags: ['payments'],
        operationId: 'listPayments',
        summary: "The caller's payments (admins: everybody's)",
        description:
          "With `orderId`, that order's payment; another customer's order answers an empty list, never their payment.",
        querystring: PaymentListQuery,
        response: { 200: PaymentList, 400: Problem, 401: Problem },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const query: PaymentListQuery = request.query;
      const page = await listPayments(db, {
        // Ownership is the filter itself: a customer's list can only ever hold their own payments.
        customerId: user.role === 'admin' ? undefined : user.id,
        orderId: query.orderId,
        limit: query.limit ?? 20,
        after: query.cursor === undefined ? undefined : readCursor(query.cursor),
      });
      return { items: page.items.map(toPayment), nextCursor: page.next ? encodeCursor(page.next) : null };
    },
  );
}

function readCursor(cursor: string): Position {
  try {
    return decodeCursor(cursor);
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new AppError('VALIDATION_FAILED', 'The request has invalid fields.', {
      errors: [{ path: 'querystring/cursor', message: error.message }],
    });
  }
}
