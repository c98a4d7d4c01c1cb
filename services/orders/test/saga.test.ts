import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  advanceSaga,
  checkpointName,
  DEFAULT_SAGA_POLICY,
  requestCancel,
  retryDelay,
  type SagaState,
  type SagaStep,
  type SagaTransition,
  type StepOutcome,
  startSaga,
} from '../src/domain/saga.ts';

const T0 = 1_700_000_000_000;
const done: StepOutcome = { kind: 'done' };
const unavailable: StepOutcome = { kind: 'unavailable', error: '503 PAYMENT_PROVIDER_ERROR' };

/** Outcomes per step, used in order; a step with none left answers `done`. */
type Script = Partial<Record<SagaStep, StepOutcome[]>>;

/**
 * Plays a saga from `saga` to its end with the scripted outcomes, each at `nextAttemptAt` (as the
 * runner would), and answers the steps performed, the ending and the final state. `cancelBefore`
 * asks to cancel the first time that step is about to be performed.
 */
function play(script: Script, options: { from?: SagaState; cancelBefore?: SagaStep } = {}) {
  let saga = options.from ?? startSaga(T0);
  let now = saga.nextAttemptAt;
  const queues = new Map(Object.entries(script).map(([step, outcomes]) => [step, [...(outcomes ?? [])]]));
  const steps: SagaStep[] = [];
  let ending: SagaTransition['ending'] = null;
  let cancelPending = options.cancelBefore;
  for (let guard = 0; saga.step !== 'DONE'; guard++) {
    assert.ok(guard < 100, 'the saga ends');
    if (cancelPending === saga.step) {
      cancelPending = undefined;
      const result = requestCancel(saga, now);
      assert.equal(result.kind, 'requested');
      if (result.kind === 'requested') saga = result.transition.saga;
      continue;
    }
    now = Math.max(now, saga.nextAttemptAt);
    const outcome = queues.get(saga.step)?.shift() ?? done;
    steps.push(saga.step);
    const transition = advanceSaga(saga, outcome, now);
    saga = transition.saga;
    ending = transition.ending;
    now += 10;
  }
  return { steps, ending, saga, now };
}

describe('the checkout saga', () => {
  test('a checkout that meets no failure reserves, authorizes, commits, captures and confirms', () => {
    const { steps, ending, saga } = play({});
    assert.deepEqual(steps, ['RESERVING', 'AUTHORIZING', 'COMMITTING', 'CAPTURING']);
    assert.equal(ending, 'confirm');
    assert.equal(saga.stock, 'COMMITTED');
    assert.equal(saga.payment, 'CAPTURED');
    assert.equal(saga.cancellation, null);
  });

  test('stock that is short cancels with OUT_OF_STOCK and undoes nothing, since nothing is held', () => {
    const { steps, ending, saga } = play({ RESERVING: [{ kind: 'out-of-stock' }] });
    assert.deepEqual(steps, ['RESERVING']);
    assert.equal(ending, 'cancel');
    assert.deepEqual(saga.cancellation, { reason: 'OUT_OF_STOCK', declineCode: null });
  });

  test('a declined card releases the stock (no void: a decline holds nothing) and keeps the decline code', () => {
    const { steps, ending, saga } = play({
      AUTHORIZING: [{ kind: 'declined', declineCode: 'insufficient_funds' }],
    });
    assert.deepEqual(steps, ['RESERVING', 'AUTHORIZING', 'RELEASING']);
    assert.equal(ending, 'cancel');
    assert.deepEqual(saga.cancellation, { reason: 'PAYMENT_DECLINED', declineCode: 'insufficient_funds' });
    assert.equal(saga.stock, 'NONE');
  });

  test('payments unavailable are retried with growing, capped delays until the bound, then voided and released', () => {
    const failures = Array.from({ length: 40 }, () => unavailable);
    const { steps, ending, saga } = play({ AUTHORIZING: failures });
    const authorizing = steps.filter((s) => s === 'AUTHORIZING').length;
    assert.ok(authorizing > 5 && authorizing < 40, `retried ${authorizing} times before giving up`);
    assert.deepEqual(steps.slice(-2), ['VOIDING', 'RELEASING']);
    assert.equal(ending, 'cancel');
    assert.deepEqual(saga.cancellation, { reason: 'PAYMENT_UNAVAILABLE', declineCode: null });
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 10].map((a) => retryDelay(a)),
      [100, 200, 400, 800, 1600, 2000, 2000],
    );
  });

  test('within the bound an unavailable payment keeps the step and schedules the next attempt', () => {
    const authorizing = advanceSaga(startSaga(T0), done, T0).saga;
    const once = advanceSaga(authorizing, unavailable, T0 + 50).saga;
    assert.equal(once.step, 'AUTHORIZING');
    assert.equal(once.attempts, 1);
    assert.equal(once.nextAttemptAt, T0 + 50 + DEFAULT_SAGA_POLICY.retryBaseMs);
    assert.equal(once.lastError, '503 PAYMENT_PROVIDER_ERROR');
    const late = advanceSaga(once, unavailable, T0 + DEFAULT_SAGA_POLICY.paymentGiveUpMs).saga;
    assert.equal(late.step, 'VOIDING');
  });

  test('an expired reservation at commit voids the authorization and releases nothing', () => {
    const { steps, ending, saga } = play({ COMMITTING: [{ kind: 'expired' }] });
    assert.deepEqual(steps, ['RESERVING', 'AUTHORIZING', 'COMMITTING', 'VOIDING']);
    assert.equal(ending, 'cancel');
    assert.deepEqual(saga.cancellation, { reason: 'RESERVATION_EXPIRED', declineCode: null });
  });

  test('a lost answer repeats the same step and ends exactly as if the first answer had arrived', () => {
    const lost = play({
      RESERVING: [unavailable],
      AUTHORIZING: [unavailable, unavailable],
      COMMITTING: [unavailable],
      CAPTURING: [unavailable],
    });
    assert.deepEqual(lost.steps, [
      'RESERVING',
      'RESERVING',
      'AUTHORIZING',
      'AUTHORIZING',
      'AUTHORIZING',
      'COMMITTING',
      'COMMITTING',
      'CAPTURING',
      'CAPTURING',
    ]);
    const clean = play({});
    assert.equal(lost.ending, clean.ending);
    assert.deepEqual(
      { ...lost.saga, stepStartedAt: 0, nextAttemptAt: 0 },
      { ...clean.saga, stepStartedAt: 0, nextAttemptAt: 0 },
    );
  });

  test('a resumed saga performs the stored step again: the state alone says what to do', () => {
    const stored = advanceSaga(advanceSaga(startSaga(T0), done, T0).saga, done, T0 + 1).saga;
    assert.equal(stored.step, 'COMMITTING');
    // A crash after the commit but before its answer was stored: the copy in the database is all
    // a new runner has, and it leads to the same call and then on.
    const copy = structuredClone(stored);
    const resumed = play({}, { from: copy });
    assert.deepEqual(resumed.steps, ['COMMITTING', 'CAPTURING']);
    assert.equal(resumed.ending, 'confirm');
  });

  test('a compensation that fails is retried until it succeeds; one that is refused is retried slowly', () => {
    const { steps, ending } = play({
      AUTHORIZING: [{ kind: 'declined', declineCode: 'card_declined' }],
      RELEASING: [unavailable, unavailable],
    });
    assert.deepEqual(steps, ['RESERVING', 'AUTHORIZING', 'RELEASING', 'RELEASING', 'RELEASING']);
    assert.equal(ending, 'cancel');

    const authorizing = advanceSaga(startSaga(T0), done, T0).saga;
    const releasing = advanceSaga(authorizing, { kind: 'declined', declineCode: null }, T0).saga;
    const refused = advanceSaga(releasing, { kind: 'refused', error: '409 INVALID_STATE' }, T0 + 5).saga;
    assert.equal(refused.step, 'RELEASING', 'a refused release is never skipped');
    assert.equal(refused.nextAttemptAt, T0 + 5 + DEFAULT_SAGA_POLICY.stuckRetryMs);
  });

  test('a refused reservation cancels with PRODUCT_UNAVAILABLE and releases nothing', () => {
    const { steps, saga } = play({ RESERVING: [{ kind: 'refused', error: '400 VALIDATION_FAILED' }] });
    assert.deepEqual(steps, ['RESERVING']);
    assert.equal(saga.cancellation?.reason, 'PRODUCT_UNAVAILABLE');
  });

  test('a refused capture voids the authorization and returns the committed stock', () => {
    const { steps, saga, ending } = play({ CAPTURING: [{ kind: 'refused', error: '409 INVALID_STATE' }] });
    assert.deepEqual(steps, ['RESERVING', 'AUTHORIZING', 'COMMITTING', 'CAPTURING', 'VOIDING', 'RETURNING']);
    assert.equal(ending, 'cancel');
    assert.equal(saga.cancellation?.reason, 'PAYMENT_UNAVAILABLE');
  });

  test('crash points are named after what just happened, and a plain retry is none', () => {
    assert.equal(checkpointName('AUTHORIZING', done, 'COMMITTING'), 'authorized');
    assert.equal(checkpointName('RELEASING', done, 'DONE'), 'released');
    assert.equal(
      checkpointName('AUTHORIZING', { kind: 'declined', declineCode: null }, 'RELEASING'),
      'authorize-declined',
    );
    assert.equal(checkpointName('AUTHORIZING', unavailable, 'AUTHORIZING'), undefined);
    assert.equal(checkpointName('AUTHORIZING', unavailable, 'VOIDING'), 'authorize-unavailable');
    assert.equal(checkpointName('COMMITTING', { kind: 'expired' }, 'VOIDING'), 'commit-expired');
  });

  test('an outcome a step cannot have is a bug, not a transition', () => {
    assert.throws(() => advanceSaga(startSaga(T0), { kind: 'declined', declineCode: null }, T0));
    const finished = play({}).saga;
    assert.throws(() => advanceSaga(finished, done, T0));
  });
});

describe('a customer cancels', () => {
  const cases: Array<{ at: SagaStep; script?: Script; steps: SagaStep[] }> = [
    { at: 'RESERVING', steps: ['RELEASING'] },
    { at: 'AUTHORIZING', steps: ['RESERVING', 'VOIDING', 'RELEASING'] },
    // Commit and capture cannot be undone blindly: the step in flight finishes, then is undone.
    { at: 'COMMITTING', steps: ['RESERVING', 'AUTHORIZING', 'COMMITTING', 'VOIDING', 'RETURNING'] },
    {
      at: 'CAPTURING',
      steps: ['RESERVING', 'AUTHORIZING', 'COMMITTING', 'CAPTURING', 'REFUNDING', 'RETURNING'],
    },
  ];
  for (const c of cases) {
    test(`while ${c.at}: exactly what was done is undone, then CUSTOMER_CANCELLED`, () => {
      const { steps, ending, saga } = play(c.script ?? {}, { cancelBefore: c.at });
      assert.deepEqual(steps, c.steps);
      assert.equal(ending, 'cancel');
      assert.deepEqual(saga.cancellation, { reason: 'CUSTOMER_CANCELLED', declineCode: null });
      assert.equal(saga.stock, 'NONE');
      assert.equal(saga.payment, 'NONE');
    });
  }

  test('while committing, a commit that finds the reservation expired needs only a void', () => {
    const { steps, saga } = play({ COMMITTING: [{ kind: 'expired' }] }, { cancelBefore: 'COMMITTING' });
    assert.deepEqual(steps, ['RESERVING', 'AUTHORIZING', 'COMMITTING', 'VOIDING']);
    assert.equal(saga.cancellation?.reason, 'CUSTOMER_CANCELLED');
  });

  test('after confirmation: the payment is refunded and the stock returned', () => {
    const confirmed = play({}).saga;
    const result = requestCancel(confirmed, T0 + 1_000);
    assert.equal(result.kind, 'requested');
    if (result.kind !== 'requested') return;
    assert.equal(result.transition.ending, null);
    const { steps, ending, saga } = play({}, { from: result.transition.saga });
    assert.deepEqual(steps, ['REFUNDING', 'RETURNING']);
    assert.equal(ending, 'cancel');
    assert.equal(saga.cancellation?.reason, 'CUSTOMER_CANCELLED');
  });

  test('a second request changes nothing, and a cancelled order cannot be cancelled again', () => {
    const first = requestCancel(startSaga(T0), T0);
    assert.equal(first.kind, 'requested');
    if (first.kind !== 'requested') return;
    assert.equal(requestCancel(first.transition.saga, T0).kind, 'unchanged');
    const cancelled = play({}, { from: first.transition.saga }).saga;
    assert.equal(requestCancel(cancelled, T0).kind, 'already-cancelled');
  });

  test('during compensation for a decline the cancel is noted and the decline stays the reason', () => {
    const authorizing = advanceSaga(startSaga(T0), done, T0).saga;
    const releasing = advanceSaga(authorizing, { kind: 'declined', declineCode: 'card_declined' }, T0).saga;
    assert.equal(releasing.step, 'RELEASING');
    const result = requestCancel(releasing, T0);
    assert.equal(result.kind, 'requested');
    if (result.kind !== 'requested') return;
    assert.equal(result.transition.saga.step, 'RELEASING');
    const { saga } = play({}, { from: result.transition.saga });
    assert.deepEqual(saga.cancellation, { reason: 'PAYMENT_DECLINED', declineCode: 'card_declined' });
  });
});
