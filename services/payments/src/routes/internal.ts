import { AuthorizationRequest, Payment, Problem } from '@bazaar/contracts';
import { type Principals, requireService } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { PaymentStep } from '../domain/payment.ts';
import { advancePayment, authorizePayment, type PaymentSteps } from '../payment-steps.ts';

const OrderParams = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) });
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 503: Problem };

/**
 * The saga's payment steps, for orders only (its service token): authorize, capture, void, refund.
 * Each is idempotent on the order id and answers the payment as it is after the call.
 */
export function internalRoutes(scope: FastifyInstance, steps: PaymentSteps): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  // Before body validation, so a caller who may not call learns nothing about the body either.
  const preValidation = async (request: Principals) => {
    requireService(request, 'orders');
  };

  app.post(
    '/internal/payments',
    { preValidation, schema: { body: AuthorizationRequest, response: { 200: Payment, ...errors } } },
    (request) => authorizePayment(steps, request.body),
  );

  for (const step of ['capture', 'void', 'refund'] as const satisfies PaymentStep[]) {
    app.post(
      `/internal/payments/:orderId/${step}`,
      { preValidation, schema: { params: OrderParams, response: { 200: Payment, ...errors } } },
      (request) => advancePayment(steps, step, request.params.orderId),
    );
  }
}
