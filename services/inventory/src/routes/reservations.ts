import { Problem, Reservation, ReservationRequest } from '@bazaar/contracts';
import { AppError, requireService, type ServiceContext } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { InventoryConfig } from '../config.ts';
import { expiryOf, mergeLines, type ReservationStep, toReservation } from '../domain/reservation.ts';
import { inventoryMetrics, stepOutcome } from '../metrics.ts';
import {
  commitReservation,
  releaseReservation,
  reserveStock,
  returnReservation,
  type StepRefusal,
  type StepResult,
} from '../store/reservations.ts';

const TAGS = ['inventory (internal)'];
const OrderParams = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) });
const STEP_RESPONSES = { 200: Reservation, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/**
 * The reservations orders' checkout saga makes and settles. Only orders may call them (a service
 * token, never a user token); each is idempotent on the order id and answers the reservation.
 */
export async function reservationRoutes(
  app: FastifyInstance,
  ctx: ServiceContext<InventoryConfig>,
): Promise<void> {
  const metrics = inventoryMetrics(ctx.metrics);
  // Before body validation, so a caller who may not call learns nothing about the body either.
  app.addHook('preValidation', async (request) => {
    requireService(request, 'orders');
  });

  app.post<{ Body: ReservationRequest }>(
    '/internal/reservations',
    {
      schema: {
        tags: TAGS,
        operationId: 'reserveStock',
        summary: "Reserve an order's lines, all or nothing",
        body: ReservationRequest,
        response: { 200: Reservation, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const { orderId, items, ttlSeconds } = request.body;
      const now = new Date(ctx.clock.now());
      const result = await reserveStock(ctx, {
        orderId,
        lines: mergeLines(items),
        expiresAt: expiryOf(now, ttlSeconds ?? ctx.config.BAZAAR_RESERVATION_TTL_SECONDS),
      });
      metrics.reservations.inc({ outcome: result.outcome });
      return toReservation(result.reservation);
    },
  );

  const steps: Record<ReservationStep, (orderId: string) => Promise<StepResult>> = {
    commit: (orderId) => commitReservation(ctx, orderId, new Date(ctx.clock.now())),
    release: (orderId) => releaseReservation(ctx, orderId),
    return: (orderId) => returnReservation(ctx, orderId),
  };
  const summaries: Record<ReservationStep, string> = {
    commit: 'Commit a reservation: its stock is sold (409 once it expired or was released)',
    release: 'Release a reservation: its stock is available again (a release first leaves a tombstone)',
    return: "Return a committed reservation's stock (a confirmed order was cancelled)",
  };
  for (const name of Object.keys(steps) as ReservationStep[]) {
    app.post<{ Params: { orderId: string } }>(
      `/internal/reservations/:orderId/${name}`,
      {
        schema: {
          tags: TAGS,
          operationId: `${name}Reservation`,
          summary: summaries[name],
          params: OrderParams,
          response: STEP_RESPONSES,
        },
      },
      async (request) => {
        const result = await steps[name](request.params.orderId);
        metrics.steps.inc({ step: name, outcome: stepOutcome(result) });
        if (result.outcome !== 'refused') return toReservation(result.reservation);
        if (result.expiredNow) metrics.expired.inc({ by: 'commit' });
        throw refusal(result.refusal, request.params.orderId);
      },
    );
  }
}

function refusal(code: StepRefusal, orderId: string): AppError {
  const details: Record<StepRefusal, string> = {
    RESERVATION_NOT_FOUND: `There is no reservation for order ${orderId}.`,
    RESERVATION_EXPIRED: `The reservation of order ${orderId} expired or was released.`,
    INVALID_STATE: `The reservation of order ${orderId} cannot take this step in its current state.`,
  };
  return new AppError(code, details[code]);
}
