import { type AuthorizationRequest, Events, type Payment } from '@bazaar/contracts';
import { AppError, type EventWriter, withTransaction } from '@bazaar/kit';
import type pg from 'pg';
import {
  authorizedFields,
  decideStep,
  type PaymentRecord,
  type PaymentStep,
  providerKey,
  statusAfter,
  toPayment,
} from './domain/payment.ts';
import { type CardProvider, ProviderError } from './domain/provider.ts';
import { findPayment, insertPayment, lockOrder, setStatus } from './store/payments.ts';

/** What the payment steps work with. */
export interface PaymentSteps {
  db: pg.Pool;
  provider: CardProvider;
  events: EventWriter;
  /** The store's currency, for a tombstone (a void with nothing to void carries no amount). */
  currency: string;
}

/**
 * Authorizes an order's amount, once per order. Under the order's lock: a payment that exists
 * (authorized, declined, or a tombstone left by an earlier void) is answered as it is; otherwise
 * the provider is asked and its answer, the ledger row and the event commit together. A provider
 * error rolls everything back: nothing is recorded, and the retry repeats the provider's key.
 */
export function authorizePayment(steps: PaymentSteps, request: AuthorizationRequest): Promise<Payment> {
  return withTransaction(steps.db, async (tx) => {
    await lockOrder(tx, request.orderId);
    const existing = await findPayment(tx, request.orderId);
    if (existing) return toPayment(existing);
    const answer = await callProvider(() =>
      steps.provider.authorize(
        providerKey('authorize', request.orderId),
        request.amount,
        request.currency,
        request.paymentToken,
      ),
    );
    const fields = authorizedFields(answer);
    const payment = await insertPayment(
      tx,
      {
        orderId: request.orderId,
        customerId: request.customerId,
        amount: request.amount,
        currency: request.currency,
        ...fields,
      },
      // The ledger holds money effects: an authorization is one, a decline is not.
      fields.status === 'AUTHORIZED' ? 'authorize' : undefined,
    );
    await announce(steps.events, tx, payment);
    return toPayment(payment);
  });
}

/**
 * Captures, voids or refunds an order's payment, once. A step already done answers the payment as
 * it is; a step the state forbids is 409 `INVALID_STATE`; an order without a payment is 404, except
 * for a void, which leaves a VOIDED tombstone of 0 so that a late authorize changes nothing. The
 * money moves at the provider first; a provider error leaves the state as it was (503, retry safe).
 */
export function advancePayment(steps: PaymentSteps, step: PaymentStep, orderId: string): Promise<Payment> {
  return withTransaction(steps.db, async (tx) => {
    await lockOrder(tx, orderId);
    const existing = await findPayment(tx, orderId);
    if (!existing) {
      if (step !== 'void') throw new AppError('PAYMENT_NOT_FOUND', `Order ${orderId} has no payment.`);
      // An authorize whose answer was lost (payments stopped before recording it) may still have
      // left a hold at the provider: release it under the same key before leaving the tombstone.
      await callProvider(() =>
        steps.provider.voidByKey(providerKey('authorize', orderId), providerKey('void', orderId)),
      );
      const tombstone = await insertPayment(tx, {
        orderId,
        customerId: null,
        status: 'VOIDED',
        amount: 0,
        currency: steps.currency,
        declineCode: null,
        providerRef: null,
      });
      await announce(steps.events, tx, tombstone);
      return toPayment(tombstone);
    }
    const decision = decideStep(step, existing.status);
    if (decision === 'as-is') return toPayment(existing);
    if (decision === 'invalid') {
      throw new AppError('INVALID_STATE', `A ${existing.status} payment cannot be given a ${step}.`);
    }
    const ref = existing.providerRef!;
    await callProvider(() => steps.provider[step](ref, providerKey(step, orderId)));
    const payment = await setStatus(tx, existing.id, statusAfter(step), step);
    await announce(steps.events, tx, payment);
    return toPayment(payment);
  });
}

/** Runs a provider call; its failure becomes 503 `PAYMENT_PROVIDER_ERROR`, which callers retry. */
async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    throw new AppError(
      'PAYMENT_PROVIDER_ERROR',
      'The payment provider failed; nothing was done. Try again.',
      {
        headers: { 'retry-after': '1' },
        cause: err,
      },
    );
  }
}

async function announce(events: EventWriter, tx: pg.PoolClient, payment: PaymentRecord): Promise<void> {
  await events.publish(tx, Events.paymentChanged, payment.orderId, {
    paymentId: payment.id,
    orderId: payment.orderId,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
  });
}
