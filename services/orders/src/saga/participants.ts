import type { AuthorizationRequest, Payment, Reservation, ReservationRequest } from '@bazaar/contracts';
import { type Clock, Deadline, type ServiceClient, UpstreamError } from '@bazaar/kit';
import type { Order } from '../domain/order.ts';
import type { SagaStep, StepOutcome } from '../domain/saga.ts';

/** Performs one saga step against inventory or payments and says what came of it; never throws. */
export interface Participants {
  perform(step: SagaStep, order: Order, paymentToken: string | null): Promise<StepOutcome>;
}

/** What the HTTP participants need. */
export interface ParticipantOptions {
  client: (service: 'inventory' | 'payments') => ServiceClient;
  /** Bound of one step's call, its retries included. */
  callDeadlineMs: number;
  /** Reservation hold; undefined leaves inventory's default (10 minutes). */
  reservationTtlSeconds?: number | undefined;
  clock: Clock;
}

/**
 * The saga's calls over HTTP. Each carries an idempotency key derived from the order id and the
 * step (`<orderId>:reserve`…), so the kit may retry it and a resumed saga repeats it harmlessly.
 */
export function httpParticipants(options: ParticipantOptions): Participants {
  const call = async <T>(service: 'inventory' | 'payments', path: string, key: string, body?: unknown) =>
    options.client(service).json<T>({
      method: 'POST',
      path,
      body: body ?? {},
      idempotencyKey: key,
      deadline: Deadline.after(options.callDeadlineMs, options.clock),
    });

  const steps: Record<
    Exclude<SagaStep, 'DONE'>,
    (order: Order, token: string | null) => Promise<StepOutcome>
  > = {
    async RESERVING(order) {
      const request: ReservationRequest = {
        orderId: order.id,
        items: order.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
        ...(options.reservationTtlSeconds ? { ttlSeconds: options.reservationTtlSeconds } : {}),
      };
      const r = await call<Reservation>(
        'inventory',
        '/internal/reservations',
        `${order.id}:reserve`,
        request,
      );
      if (r.status === 'RESERVED' || r.status === 'COMMITTED') return DONE;
      if (r.status === 'REJECTED') return { kind: 'out-of-stock' };
      if (r.status === 'RELEASED' || r.status === 'EXPIRED') return { kind: 'expired' };
      return refused(`reservation answered ${r.status}`);
    },
    async AUTHORIZING(order, token) {
      if (!token) return refused('no payment token is kept for this order');
      const request: AuthorizationRequest = {
        orderId: order.id,
        customerId: order.customerId,
        amount: order.total,
        currency: order.currency,
        paymentToken: token,
      };
      const p = await call<Payment>('payments', '/internal/payments', `${order.id}:authorize`, request);
      if (p.status === 'AUTHORIZED' || p.status === 'CAPTURED') return DONE;
      if (p.status === 'DECLINED') return { kind: 'declined', declineCode: p.declineCode ?? null };
      return refused(`authorization answered ${p.status}`);
    },
    async COMMITTING(order) {
      const r = await call<Reservation>(
        'inventory',
        `/internal/reservations/${order.id}/commit`,
        `${order.id}:commit`,
      );
      if (r.status === 'COMMITTED' || r.status === 'RETURNED') return DONE;
      if (r.status === 'EXPIRED' || r.status === 'RELEASED') return { kind: 'expired' };
      return refused(`commit answered ${r.status}`);
    },
    async CAPTURING(order) {
      const p = await call<Payment>(
        'payments',
        `/internal/payments/${order.id}/capture`,
        `${order.id}:capture`,
      );
      return p.status === 'CAPTURED' || p.status === 'REFUNDED'
        ? DONE
        : refused(`capture answered ${p.status}`);
    },
    async VOIDING(order) {
      const p = await call<Payment>('payments', `/internal/payments/${order.id}/void`, `${order.id}:void`);
      return p.status === 'VOIDED' || p.status === 'DECLINED' ? DONE : refused(`void answered ${p.status}`);
    },
    async REFUNDING(order) {
      const p = await call<Payment>(
        'payments',
        `/internal/payments/${order.id}/refund`,
        `${order.id}:refund`,
      );
      return p.status === 'REFUNDED' ? DONE : refused(`refund answered ${p.status}`);
    },
    async RELEASING(order) {
      const r = await call<Reservation>(
        'inventory',
        `/internal/reservations/${order.id}/release`,
        `${order.id}:release`,
      );
      // Expired or rejected reservations hold nothing either: the release has nothing left to do.
      return r.status === 'RELEASED' || r.status === 'EXPIRED' || r.status === 'REJECTED'
        ? DONE
        : refused(`release answered ${r.status}`);
    },
    async RETURNING(order) {
      const r = await call<Reservation>(
        'inventory',
        `/internal/reservations/${order.id}/return`,
        `${order.id}:return`,
      );
      return r.status === 'RETURNED' ? DONE : refused(`return answered ${r.status}`);
    },
  };

  return {
    async perform(step, order, paymentToken) {
      if (step === 'DONE') throw new Error('a finished saga has no step to perform');
      try {
        return await steps[step](order, paymentToken);
      } catch (err) {
        return classify(step, err);
      }
    },
  };
}

const DONE: StepOutcome = { kind: 'done' };

function refused(error: string): StepOutcome {
  return { kind: 'refused', error };
}

/** Statuses that say "not now" rather than "never": the step is repeated. */
const TRANSIENT = new Set([401, 403, 408, 425, 429]);

/** Turns a failed call into an outcome: a known refusal, or "unavailable" (repeat with the same key). */
function classify(step: SagaStep, err: unknown): StepOutcome {
  if (err instanceof UpstreamError) {
    const status = err.upstreamStatus;
    const code = err.problem?.code;
    if (step === 'COMMITTING' && (code === 'RESERVATION_EXPIRED' || code === 'RESERVATION_NOT_FOUND')) {
      return { kind: 'expired' };
    }
    // Tokens missing while identity is away, rate limits, 5xx and the provider's 503: all pass.
    if (status >= 500 || TRANSIENT.has(status))
      return { kind: 'unavailable', error: `${status} ${code ?? ''}`.trim() };
    return refused(`${status} ${code ?? ''}`.trim());
  }
  return { kind: 'unavailable', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}
