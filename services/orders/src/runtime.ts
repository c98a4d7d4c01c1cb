import { Headers } from '@bazaar/contracts';
import { AppError, type ServiceContext } from '@bazaar/kit';
import type pg from 'pg';
import type { CancellationDeps } from './cancellation.ts';
import type { CheckoutDeps } from './checkout.ts';
import type { OrdersConfig } from './config.ts';
import { type CheckoutFeatures, DEFAULT_CHECKOUT_FEATURES, refuseCheckout } from './domain/checkout-gate.ts';
import { DEFAULT_SAGA_POLICY } from './domain/saga.ts';
import { STUCK_AFTER_SECONDS, sagaMetrics } from './saga/metrics.ts';
import { httpParticipants } from './saga/participants.ts';
import { SagaRunner } from './saga/runner.ts';
import { deleteExpiredKeys } from './store/idempotency-keys.ts';
import { countPending, countPendingOlderThan } from './store/orders.ts';

/** Idempotency keys are kept this long (CONTRACT: 24 h). */
const KEY_LIFETIME_MS = 24 * 3600_000;
const KEY_CLEANUP_EVERY_MS = 10 * 60_000;

/** Everything orders' routes and jobs share within one instance. */
export interface OrdersRuntime {
  db: pg.Pool;
  runner: SagaRunner;
  checkout: CheckoutDeps;
  cancellation: CancellationDeps;
  /** Checkout's live switches (the config center's `features`), read by every new checkout. */
  features: CheckoutFeatures;
  /** Starts the saga sweep (resuming what earlier instances left) and the key cleanup. */
  start(): void;
  /** Stops both; sagas in flight store their step and give their leases back. */
  stop(): Promise<void>;
}

const runtimes = new WeakMap<ServiceContext<OrdersConfig>, OrdersRuntime>();

/** The runtime of the instance whose context is `ctx` (made on first use). */
export function ordersRuntime(ctx: ServiceContext<OrdersConfig>): OrdersRuntime {
  let runtime = runtimes.get(ctx);
  if (!runtime) {
    runtime = createRuntime(ctx);
    runtimes.set(ctx, runtime);
  }
  return runtime;
}

function createRuntime(ctx: ServiceContext<OrdersConfig>): OrdersRuntime {
  const { config, db, clock, log } = ctx;
  const leaseMs = config.BAZAAR_SAGA_LEASE_SECONDS * 1000;
  const runner = new SagaRunner({
    db,
    participants: httpParticipants({
      client: (service) => ctx.client(service),
      // A step's call must end well within the lease, or another instance could take the saga mid-call.
      callDeadlineMs: Math.min(config.BAZAAR_DEFAULT_DEADLINE_MS, leaseMs / 2),
      reservationTtlSeconds: config.BAZAAR_RESERVATION_TTL_SECONDS,
      clock,
    }),
    events: ctx.events,
    log: log.child({ component: 'saga' }),
    metrics: sagaMetrics(ctx.metrics, {
      pending: () => countPending(db),
      stuck: () => countPendingOlderThan(db, STUCK_AFTER_SECONDS),
    }),
    clock,
    owner: ctx.instanceId,
    policy: { ...DEFAULT_SAGA_POLICY, paymentGiveUpMs: config.BAZAAR_PAYMENT_GIVE_UP_SECONDS * 1000 },
    leaseMs,
    sweepEveryMs: config.BAZAAR_SAGA_SWEEP_MS,
  });

  const features: CheckoutFeatures = { ...DEFAULT_CHECKOUT_FEATURES };
  const admit = () => {
    const refusal = refuseCheckout(features, () => ctx.client('payments').availability());
    if (!refusal) return;
    throw new AppError(refusal.code, refusal.detail, {
      // Deliberate: the gateway passes it on at once, without retrying or blaming this instance.
      headers: {
        'retry-after': String(refusal.retryAfterSeconds),
        [Headers.degraded]: refusal.code.toLowerCase(),
      },
    });
  };

  let cleanup: NodeJS.Timeout | undefined;
  const forgetOldKeys = () =>
    void deleteExpiredKeys(db, KEY_LIFETIME_MS)
      .then((n) => n > 0 && log.info({ keys: n }, 'forgot expired idempotency keys'))
      .catch((err: unknown) => log.warn({ err }, 'idempotency key cleanup failed; retrying later'));

  return {
    db,
    runner,
    checkout: {
      db,
      events: ctx.events,
      client: (service) => ctx.client(service),
      runner,
      clock,
      log,
      currency: config.BAZAAR_CURRENCY,
      owner: ctx.instanceId,
      leaseMs,
      waitMs: config.BAZAAR_CHECKOUT_WAIT_MS,
      admit,
    },
    cancellation: { db, events: ctx.events, runner, clock, waitMs: config.BAZAAR_CHECKOUT_WAIT_MS },
    features,
    start() {
      runner.start();
      forgetOldKeys();
      cleanup ??= setInterval(forgetOldKeys, KEY_CLEANUP_EVERY_MS).unref();
    },
    async stop() {
      clearInterval(cleanup);
      await runner.stop();
    },
  };
}
