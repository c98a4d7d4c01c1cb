/**
 * The checkout saga's rules, as pure functions of its persisted state: which call comes next, and
 * what an answer to that call changes. The runner performs the calls and stores the states; these
 * functions decide everything, so every path is testable without HTTP or a database.
 *
 * Forward: RESERVING → AUTHORIZING → COMMITTING → CAPTURING → DONE (the order is confirmed).
 * A failure compensates exactly what inventory and payments may hold for the order — payment
 * first (VOIDING or REFUNDING), then stock (RELEASING or RETURNING) — and then the order is
 * cancelled with the reason decided when compensation began.
 *
 * "May hold" is recorded when a step is entered, not when its answer arrives: a call whose answer
 * was lost (timeout, crash) may still have taken effect on the other side. Reserve and authorize
 * have tombstones there (a release or void that comes first makes a late reserve or authorize hold
 * nothing), so they can be compensated blindly. Commit and capture cannot, so once entered they are
 * repeated until their outcome is known, and a customer's cancellation waits for it.
 */

import type { CancelReason, DeclineCode } from '@bazaar/contracts';

/** The next call of a saga, or DONE when nothing is left to do. */
export type SagaStep =
  | 'RESERVING'
  | 'AUTHORIZING'
  | 'COMMITTING'
  | 'CAPTURING'
  | 'VOIDING'
  | 'REFUNDING'
  | 'RELEASING'
  | 'RETURNING'
  | 'DONE';

/** What inventory may hold for the order. */
export type StockHold = 'NONE' | 'RESERVED' | 'COMMITTED';

/** What payments may hold for the order. */
export type PaymentHold = 'NONE' | 'AUTHORIZED' | 'CAPTURED';

/** Why an order is being (or was) cancelled. */
export interface Cancellation {
  reason: CancelReason;
  declineCode: DeclineCode | null;
}

/** A saga as it is persisted after every step. Times are epoch milliseconds. */
export interface SagaState {
  step: SagaStep;
  stock: StockHold;
  payment: PaymentHold;
  /** The customer asked to cancel; honoured as soon as the step in flight allows. */
  cancelRequested: boolean;
  /** Set when compensation begins; the order is cancelled with it once compensation is done. */
  cancellation: Cancellation | null;
  /** Failed attempts of the current step. */
  attempts: number;
  /** When the current step began (bounds how long payments may stay unavailable). */
  stepStartedAt: number;
  /** When the current step may be (re)tried. */
  nextAttemptAt: number;
  /** Why the last attempt failed, for operators. */
  lastError: string | null;
}

/**
 * What became of one call. `done`: the step took effect (now or before: every call is idempotent).
 * `unavailable`: no usable answer (timeout, 5xx, no instance) — the call is repeated with the same
 * key. `refused`: a definite answer that the call cannot succeed (an unexpected 4xx).
 */
export type StepOutcome =
  | { kind: 'done' }
  | { kind: 'out-of-stock' }
  | { kind: 'declined'; declineCode: DeclineCode | null }
  | { kind: 'expired' }
  | { kind: 'unavailable'; error: string }
  | { kind: 'refused'; error: string };

/** How the saga retries; the runner reads it from configuration. */
export interface SagaPolicy {
  /** First retry delay; doubled per attempt up to `retryCapMs`. */
  retryBaseMs: number;
  retryCapMs: number;
  /** How long payments may stay unavailable during authorization before the order is cancelled. */
  paymentGiveUpMs: number;
  /** Retry delay of a compensation that was refused: something is wrong that an operator must see. */
  stuckRetryMs: number;
}

/** The defaults: retries at most 2 s apart (so a healed fault is noticed quickly), give up paying after 15 s. */
export const DEFAULT_SAGA_POLICY: SagaPolicy = {
  retryBaseMs: 100,
  retryCapMs: 2_000,
  paymentGiveUpMs: 15_000,
  stuckRetryMs: 30_000,
};

/** A new state, and how the order ends if it just ended. */
export interface SagaTransition {
  saga: SagaState;
  ending: 'confirm' | 'cancel' | null;
}

/** The saga of a new order: reserving first (stock may be held from the first attempt on). */
export function startSaga(now: number): SagaState {
  return {
    step: 'RESERVING',
    stock: 'RESERVED',
    payment: 'NONE',
    cancelRequested: false,
    cancellation: null,
    attempts: 0,
    stepStartedAt: now,
    nextAttemptAt: now,
    lastError: null,
  };
}

/** The next state after `outcome` of the current step. Throws for an outcome that step cannot have. */
export function advanceSaga(
  saga: SagaState,
  outcome: StepOutcome,
  now: number,
  policy: SagaPolicy = DEFAULT_SAGA_POLICY,
): SagaTransition {
  const { step } = saga;
  if (step === 'DONE') throw new Error('the saga is done: no step has an outcome');

  if (outcome.kind === 'unavailable') {
    if (step === 'AUTHORIZING' && now - saga.stepStartedAt >= policy.paymentGiveUpMs) {
      // An authorization may have happened behind the silence: payment stays "may hold", so it is voided.
      return compensate({ ...saga, lastError: outcome.error }, 'PAYMENT_UNAVAILABLE', null, now);
    }
    return retry(saga, outcome.error, now, retryDelay(saga.attempts, policy));
  }

  if (outcome.kind === 'refused') {
    switch (step) {
      // A 4xx answer to reserve or authorize means that request did nothing.
      case 'RESERVING':
        return compensate(
          { ...saga, stock: 'NONE', lastError: outcome.error },
          'PRODUCT_UNAVAILABLE',
          null,
          now,
        );
      case 'AUTHORIZING':
        return compensate(
          { ...saga, payment: 'NONE', lastError: outcome.error },
          'PAYMENT_UNAVAILABLE',
          null,
          now,
        );
      // Commit and capture refused: the reservation or authorization is no good; undo what may be held.
      case 'COMMITTING':
        return compensate({ ...saga, lastError: outcome.error }, 'RESERVATION_EXPIRED', null, now);
      case 'CAPTURING':
        return compensate({ ...saga, lastError: outcome.error }, 'PAYMENT_UNAVAILABLE', null, now);
      default:
        // A compensation refused cannot be skipped (money or stock would stay held): keep trying, slowly.
        return retry(saga, outcome.error, now, policy.stuckRetryMs);
    }
  }

  switch (step) {
    case 'RESERVING':
      if (outcome.kind === 'done') return forward({ ...saga, stock: 'RESERVED' }, 'AUTHORIZING', now);
      if (outcome.kind === 'out-of-stock') {
        return compensate({ ...saga, stock: 'NONE' }, 'OUT_OF_STOCK', null, now);
      }
      // Released or expired before we asked: inventory holds nothing for this order.
      if (outcome.kind === 'expired') {
        return compensate({ ...saga, stock: 'NONE' }, 'RESERVATION_EXPIRED', null, now);
      }
      break;
    case 'AUTHORIZING':
      if (outcome.kind === 'done') return forward({ ...saga, payment: 'AUTHORIZED' }, 'COMMITTING', now);
      if (outcome.kind === 'declined') {
        return compensate({ ...saga, payment: 'NONE' }, 'PAYMENT_DECLINED', outcome.declineCode, now);
      }
      break;
    case 'COMMITTING':
      if (outcome.kind === 'done') return forward({ ...saga, stock: 'COMMITTED' }, 'CAPTURING', now);
      if (outcome.kind === 'expired') {
        return compensate({ ...saga, stock: 'NONE' }, 'RESERVATION_EXPIRED', null, now);
      }
      break;
    case 'CAPTURING':
      if (outcome.kind === 'done') return forward({ ...saga, payment: 'CAPTURED' }, 'DONE', now);
      break;
    case 'VOIDING':
    case 'REFUNDING':
      if (outcome.kind === 'done') return continueCompensation({ ...saga, payment: 'NONE' }, now);
      break;
    case 'RELEASING':
    case 'RETURNING':
      if (outcome.kind === 'done') return continueCompensation({ ...saga, stock: 'NONE' }, now);
      break;
  }
  throw new Error(`step ${step} cannot end with "${outcome.kind}"`);
}

/** What a customer's cancellation does to a saga. */
export type CancelRequestResult =
  | { kind: 'already-cancelled' }
  | { kind: 'unchanged' }
  | { kind: 'requested'; transition: SagaTransition };

/**
 * A customer asks to cancel. Reserving or authorizing: compensate at once (their tombstones make a
 * late answer harmless). Committing or capturing: noted, and honoured when the step's outcome is
 * known. Confirmed: refund and return. Already compensating: noted; the reason stays.
 */
export function requestCancel(saga: SagaState, now: number): CancelRequestResult {
  if (saga.step === 'DONE' && saga.cancellation) return { kind: 'already-cancelled' };
  if (saga.cancelRequested) return { kind: 'unchanged' };
  const asked = { ...saga, cancelRequested: true };
  switch (saga.step) {
    case 'RESERVING':
    case 'AUTHORIZING':
    case 'DONE':
      return { kind: 'requested', transition: compensate(asked, 'CUSTOMER_CANCELLED', null, now) };
    default:
      return { kind: 'requested', transition: { saga: asked, ending: null } };
  }
}

/**
 * The name of the crash point reached right after an outcome of `step` is stored, the saga now at
 * `next` (fault tests): `reserved`, `authorized`… for a step that took effect, `<step>-<outcome>`
 * otherwise (`authorize-declined`, `commit-expired`, `authorize-unavailable` when payments were
 * given up on). A plain retry is no checkpoint.
 */
export function checkpointName(step: SagaStep, outcome: StepOutcome, next: SagaStep): string | undefined {
  if (outcome.kind === 'unavailable' && next === step) return undefined;
  if (outcome.kind === 'done') return DONE_CHECKPOINTS[step];
  return `${STEP_NOUNS[step]}-${outcome.kind}`;
}

const DONE_CHECKPOINTS: Record<SagaStep, string> = {
  RESERVING: 'reserved',
  AUTHORIZING: 'authorized',
  COMMITTING: 'committed',
  CAPTURING: 'captured',
  VOIDING: 'voided',
  REFUNDING: 'refunded',
  RELEASING: 'released',
  RETURNING: 'returned',
  DONE: 'done',
};

const STEP_NOUNS: Record<SagaStep, string> = {
  RESERVING: 'reserve',
  AUTHORIZING: 'authorize',
  COMMITTING: 'commit',
  CAPTURING: 'capture',
  VOIDING: 'void',
  REFUNDING: 'refund',
  RELEASING: 'release',
  RETURNING: 'return',
  DONE: 'done',
};

/** The delay before retry number `attempts + 1`: doubling from the base, capped. */
export function retryDelay(attempts: number, policy: SagaPolicy = DEFAULT_SAGA_POLICY): number {
  return Math.min(policy.retryCapMs, policy.retryBaseMs * 2 ** Math.min(attempts, 20));
}

/** A forward step succeeded: the next one, unless the customer asked to cancel meanwhile. */
function forward(saga: SagaState, next: SagaStep, now: number): SagaTransition {
  if (saga.cancelRequested) return compensate(saga, 'CUSTOMER_CANCELLED', null, now);
  if (next === 'DONE') return { saga: enter(saga, 'DONE', now), ending: 'confirm' };
  // An authorization may exist from the first attempt on, answered or not.
  const entered = next === 'AUTHORIZING' ? { ...saga, payment: 'AUTHORIZED' as const } : saga;
  return { saga: enter(entered, next, now), ending: null };
}

/** Begins compensation with `reason` (the customer's wish wins over a failure that raced it). */
function compensate(
  saga: SagaState,
  reason: CancelReason,
  declineCode: DeclineCode | null,
  now: number,
): SagaTransition {
  const cancellation: Cancellation = saga.cancelRequested
    ? { reason: 'CUSTOMER_CANCELLED', declineCode: null }
    : { reason, declineCode };
  return continueCompensation({ ...saga, cancellation: saga.cancellation ?? cancellation }, now);
}

/** The next compensation — money first, then stock — or the end: cancelled. */
function continueCompensation(saga: SagaState, now: number): SagaTransition {
  const next = nextCompensation(saga);
  if (next) return { saga: enter(saga, next, now), ending: null };
  return { saga: enter(saga, 'DONE', now), ending: 'cancel' };
}

function nextCompensation(saga: SagaState): SagaStep | undefined {
  if (saga.payment === 'AUTHORIZED') return 'VOIDING';
  if (saga.payment === 'CAPTURED') return 'REFUNDING';
  if (saga.stock === 'RESERVED') return 'RELEASING';
  if (saga.stock === 'COMMITTED') return 'RETURNING';
  return undefined;
}

function enter(saga: SagaState, step: SagaStep, now: number): SagaState {
  return { ...saga, step, attempts: 0, stepStartedAt: now, nextAttemptAt: now, lastError: null };
}

function retry(saga: SagaState, error: string, now: number, delayMs: number): SagaTransition {
  return {
    saga: { ...saga, attempts: saga.attempts + 1, nextAttemptAt: now + delayMs, lastError: error },
    ending: null,
  };
}
