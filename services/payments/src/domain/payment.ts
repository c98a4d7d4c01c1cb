import type { DeclineCode, Payment, PaymentStatus } from '@bazaar/contracts';
import type { Authorization } from './provider.ts';

/** A payment as payments keeps it: the public `Payment` plus whose it is and the provider's hold. */
export interface PaymentRecord {
  id: string;
  orderId: string;
  /** Null only for a tombstone (a void that came before any authorize). */
  customerId: string | null;
  status: PaymentStatus;
  amount: number;
  currency: string;
  declineCode: DeclineCode | null;
  providerRef: string | null;
  createdAt: string;
}

/** The steps that follow an authorization, each moving money through the provider. */
export type PaymentStep = 'capture' | 'void' | 'refund';

/** What a step does to a payment: call the provider and move on, answer it as it is, or refuse (409). */
export type StepDecision = 'act' | 'as-is' | 'invalid';

const STEPS: Record<PaymentStep, { from: PaymentStatus; to: PaymentStatus; settled: PaymentStatus[] }> = {
  // A capture repeated after a refund answers as is: the capture did happen.
  capture: { from: 'AUTHORIZED', to: 'CAPTURED', settled: ['CAPTURED', 'REFUNDED'] },
  // A declined payment holds nothing, so voiding it has nothing to do and is not an error.
  void: { from: 'AUTHORIZED', to: 'VOIDED', settled: ['VOIDED', 'DECLINED'] },
  refund: { from: 'CAPTURED', to: 'REFUNDED', settled: ['REFUNDED'] },
};

/** Decides what `step` does to a payment in `status` (the state rules of the internal routes). */
export function decideStep(step: PaymentStep, status: PaymentStatus): StepDecision {
  const rule = STEPS[step];
  if (status === rule.from) return 'act';
  return rule.settled.includes(status) ? 'as-is' : 'invalid';
}

/** The status a payment has after `step` acted. */
export function statusAfter(step: PaymentStep): PaymentStatus {
  return STEPS[step].to;
}

/**
 * The provider's idempotency key of an operation on an order's payment: derived from the order
 * id, so a retried or resumed saga step repeats the same key and the provider acts once.
 */
export function providerKey(operation: 'authorize' | PaymentStep, orderId: string): string {
  return `${orderId}:${operation}`;
}

/** The fields of a new payment from the provider's answer to its authorization. */
export function authorizedFields(
  answer: Authorization,
): Pick<PaymentRecord, 'status' | 'declineCode' | 'providerRef'> {
  return answer.outcome === 'authorized'
    ? { status: 'AUTHORIZED', declineCode: null, providerRef: answer.ref }
    : { status: 'DECLINED', declineCode: answer.code, providerRef: null };
}

/** The payment as callers see it. */
export function toPayment(record: PaymentRecord): Payment {
  const payment = {
    id: record.id,
    orderId: record.orderId,
    status: record.status,
    amount: record.amount,
    currency: record.currency,
    ...(record.declineCode ? { declineCode: record.declineCode } : {}),
  };
  // The cast only because the contract's `Payment['status']` reads as `never` (its union is built
  // with `map`, which TypeBox cannot type); the value is exactly a `Payment`.
  return payment as Payment;
}
