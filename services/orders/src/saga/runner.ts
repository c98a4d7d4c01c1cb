import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  type Clock,
  crashPoint,
  currentContext,
  Deadline,
  type EventWriter,
  runWithContext,
  startWorkSpan,
  withTransaction,
} from '@bazaar/kit';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Order } from '../domain/order.ts';
import { checkpointName, type SagaPolicy, type StepOutcome } from '../domain/saga.ts';
import { publishOrderEvents } from '../store/order-events.ts';
import {
  claimLease,
  dueSagas,
  loadOrder,
  releaseLease,
  type StoredOrder,
  saveSagaStep,
} from '../store/orders.ts';
import type { SagaMetrics } from './metrics.ts';
import type { Participants } from './participants.ts';

/** What a runner needs. */
export interface SagaRunnerOptions {
  db: pg.Pool;
  participants: Participants;
  events: EventWriter;
  log: Logger;
  metrics: SagaMetrics;
  clock: Clock;
  /** This instance's id: the lease owner. */
  owner: string;
  policy: SagaPolicy;
  /** How long a lease holds past the next attempt; must exceed one step's call. */
  leaseMs: number;
  /** How often the sweep looks for sagas to resume. */
  sweepEveryMs: number;
  /** Most sagas this instance drives at once. */
  maxConcurrent?: number;
}

// Taken when the module loads, outside any request: a saga outlives the request that started it,
// so it must not run under that request's deadline, nor send the customer's token on.
const outsideRequests = AsyncLocalStorage.snapshot();
const SAGA_CONTEXT_MS = 24 * 3600_000;

/**
 * Drives checkout sagas: performs each order's current step, stores the outcome (with the events it
 * raises) in one transaction, and goes on until the saga is done. An order is driven by whoever
 * holds its lease (`orders.lease_owner`/`lease_until`), so several instances share the work and an
 * instance that dies leaves its sagas to the others' sweep once its leases run out.
 */
export class SagaRunner {
  readonly #o: Required<SagaRunnerOptions>;
  readonly #active = new Map<string, Promise<StoredOrder | undefined>>();
  readonly #wakers = new Map<string, () => void>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #stopping = false;
  #abandoned = false;

  constructor(options: SagaRunnerOptions) {
    this.#o = { maxConcurrent: 64, ...options };
  }

  /** Resumes due sagas now, then sweeps every `sweepEveryMs`. */
  start(): void {
    if (this.#timer || this.#stopping) return;
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), this.#o.sweepEveryMs);
    this.#timer.unref();
  }

  /**
   * Stops: no new steps; sagas in flight finish their current call, store it and give their lease
   * back. `abandon` instead drops everything on the floor without storing or releasing — what a
   * crash does, for tests of recovery.
   */
  async stop(options: { abandon?: boolean } = {}): Promise<void> {
    this.#stopping = true;
    this.#abandoned ||= options.abandon ?? false;
    clearInterval(this.#timer);
    for (const wake of [...this.#wakers.values()]) wake();
    if (!this.#abandoned) await Promise.allSettled([...this.#active.values()]);
  }

  /**
   * Drives one order's saga until it is done (or must wait longer than a lease, or the lease is
   * lost). `leased`: the caller already holds the lease (it inserted the order); `stored`: the
   * order as it is stored now, which spares loading it. Resolves, when this run ends, with the order
   * as this run last stored or saw it (undefined when the lease was not, or no longer, its own); a
   * second call while one runs joins it (and wakes it from a backoff wait).
   */
  drive(orderId: string, options: DriveOptions = {}): Promise<StoredOrder | undefined> {
    const running = this.#active.get(orderId);
    if (running) {
      this.wake(orderId);
      return running;
    }
    if (this.#stopping) return Promise.resolve(undefined);
    const parent = currentContext();
    // A span of the request's trace (a new trace when the sweep resumes it) covers this run.
    const span = startWorkSpan('checkout saga', { 'bazaar.order.id': orderId });
    const context = {
      requestId: parent?.requestId ?? randomUUID(),
      trace: span.trace,
      deadline: Deadline.after(SAGA_CONTEXT_MS, this.#o.clock),
    };
    const run = outsideRequests(() =>
      runWithContext(context, () => this.#run(orderId, options.leased ?? false, options.stored)),
    )
      .catch((err: unknown) => {
        span.end(err);
        this.#o.log.error({ err, orderId }, 'saga run failed; the sweep resumes it');
        return undefined;
      })
      .finally(() => {
        span.end();
        if (this.#active.get(orderId) === run) this.#active.delete(orderId);
      });
    this.#active.set(orderId, run);
    return run;
  }

  /**
   * Drives the order (see `drive`) and waits up to `ms` for that run to end: its answer, or
   * undefined when it did not end in time.
   */
  async driveFor(orderId: string, ms: number, options: DriveOptions = {}): Promise<StoredOrder | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.drive(orderId, options),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
    clearTimeout(timer);
    return result;
  }

  /** Cuts a backoff wait short: the order changed (a cancellation came in). */
  wake(orderId: string): void {
    this.#wakers.get(orderId)?.();
  }

  /** Takes up sagas whose next attempt is due and whose lease is free (crashed owners, waits). */
  async sweep(): Promise<void> {
    if (this.#stopping || this.#sweeping) return;
    this.#sweeping = true;
    try {
      const room = this.#o.maxConcurrent - this.#active.size;
      if (room <= 0) return;
      for (const id of await dueSagas(this.#o.db, room)) {
        if (!this.#active.has(id)) void this.drive(id);
      }
    } catch (err) {
      this.#o.log.warn({ err }, 'saga sweep failed; trying again at the next one');
    } finally {
      this.#sweeping = false;
    }
  }

  async #run(orderId: string, leased: boolean, initial?: StoredOrder): Promise<StoredOrder | undefined> {
    const { db, owner, leaseMs, clock } = this.#o;
    if (!leased && !(await claimLease(db, orderId, owner, leaseMs))) return undefined;
    let current: StoredOrder | undefined;
    try {
      current = initial ?? (await loadOrder(db, orderId));
      while (current && !current.order.settled && !this.#stopping) {
        const wait = current.order.saga.nextAttemptAt - clock.now();
        if (wait > leaseMs / 2) return current; // a long wait: give the lease back, a sweep resumes it when due
        if (wait > 0) {
          await this.#sleep(orderId, wait);
          current = await loadOrder(db, orderId);
          continue;
        }
        current = await this.#step(current);
      }
      return current;
    } finally {
      // The step that finished the saga gave the lease up with it.
      const gaveUp = current?.order.settled && current.leaseOwner === null;
      if (!this.#abandoned && !gaveUp) await releaseLease(db, orderId, owner).catch(() => undefined);
    }
  }

  /**
   * Performs the current step and stores its outcome. Answers the order as stored now, or
   * undefined when the lease went to another runner (or this one was abandoned).
   */
  async #step(current: StoredOrder): Promise<StoredOrder | undefined> {
    const { db, owner, leaseMs, clock, policy, metrics, log } = this.#o;
    const { order, version, paymentToken } = current;
    const step = order.saga.step;
    const started = performance.now();
    const outcome = await this.#o.participants.perform(step, order, paymentToken);
    if (this.#abandoned) return undefined;
    metrics.stepDuration.observe({ step, outcome: outcome.kind }, (performance.now() - started) / 1000);

    // Optimistic: the outcome is applied to the order as loaded, and stored only if the order is
    // still at that version under our lease — one statement, or with the events it raises, one
    // transaction. A cancellation that came in meanwhile bumped the version: the answer is then
    // about a step no longer current, and dropping it is safe (the step's effect is covered by what
    // the saga may hold).
    order.recordOutcome(outcome, clock.now(), policy);
    const events = order.pullEvents();
    const entry = { step, outcome: outcome.kind, detail: detailOf(outcome) };
    const lease = { owner, leaseMs };
    const createdAt =
      events.length === 0
        ? await saveSagaStep(db, order, version, lease, entry)
        : await withTransaction(db, async (tx) => {
            const stored = await saveSagaStep(tx, order, version, lease, entry);
            if (stored) await publishOrderEvents(this.#o.events, tx, order.id, events);
            return stored;
          });
    const result: StepRecord = createdAt
      ? {
          kind: 'stored',
          stored: { ...current, version: version + 1, leaseOwner: order.settled ? null : owner },
        }
      : await this.#whyNotStored(order.id, order.lines);
    if (result.kind === 'lost') {
      log.info({ orderId: order.id }, 'saga lease taken over by another runner');
      return undefined;
    }
    if (result.kind === 'stale') return result.stored;

    const checkpoint = checkpointName(step, outcome, result.stored.order.saga.step);
    if (checkpoint) crashPoint(`saga:${checkpoint}`);
    this.#report(result.stored, step, outcome, createdAt?.getTime() ?? order.createdAt);
    return result.stored;
  }

  /** Why a step's outcome was not stored: the lease is someone else's, or the saga moved on. */
  async #whyNotStored(orderId: string, lines: Order['lines']): Promise<StepRecord> {
    const fresh = await loadOrder(this.#o.db, orderId, { lines });
    if (!fresh || fresh.leaseOwner !== this.#o.owner) return { kind: 'lost' };
    return { kind: 'stale', stored: fresh };
  }

  /** Logs and counts a stored step; a saga's duration starts at its order's stored creation time. */
  #report(stored: StoredOrder, step: string, outcome: StepOutcome, createdAt: number): void {
    const { order } = stored;
    const { log, metrics } = this.#o;
    if (outcome.kind === 'unavailable') {
      const fields = { orderId: order.id, step, attempts: order.saga.attempts, error: outcome.error };
      if (order.saga.attempts === 1) log.warn(fields, 'saga step failed; retrying');
      else log.debug(fields, 'saga step failed again');
    }
    if (!order.settled) return;
    const seconds = Math.max(0, this.#o.clock.now() - createdAt) / 1000;
    metrics.duration.observe({ outcome: order.status === 'CANCELLED' ? 'cancelled' : 'confirmed' }, seconds);
    if (order.status === 'CANCELLED') {
      metrics.ended.inc({ outcome: 'cancelled', reason: order.cancelReason ?? 'none' });
      log.info({ orderId: order.id, reason: order.cancelReason }, 'order cancelled');
    } else {
      metrics.ended.inc({ outcome: 'confirmed', reason: 'none' });
      log.info({ orderId: order.id }, 'order confirmed');
    }
  }

  #sleep(orderId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wakers.get(orderId) === done) this.#wakers.delete(orderId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.set(orderId, done);
    });
  }
}

/** How `drive` starts a run. */
export interface DriveOptions {
  /** The caller already holds the saga's lease. */
  leased?: boolean;
  /** The order as stored now (with the lease, so `leased` too). */
  stored?: StoredOrder;
}

/** What storing a step's outcome came to. */
type StepRecord =
  | { kind: 'stored'; stored: StoredOrder }
  | { kind: 'stale'; stored: StoredOrder }
  | { kind: 'lost' };

function detailOf(outcome: StepOutcome): string | null {
  if (outcome.kind === 'unavailable' || outcome.kind === 'refused') return outcome.error.slice(0, 500);
  if (outcome.kind === 'declined') return outcome.declineCode;
  return null;
}
