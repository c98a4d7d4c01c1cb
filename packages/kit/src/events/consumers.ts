/**
 * Runs a service's consumers on the bus. Each consumer is a group `<service>.<consumer>`; a delivery
 * is handled in one transaction that first records the event id in `kit_inbox` (a redelivered
 * event finds its row, commits nothing new and is acked as a duplicate), then calls `handle`. A
 * throw rolls back and asks the bus to deliver again after exponential backoff with full jitter;
 * the delivery that reaches the last attempt and fails goes to `kit_dead_letters` and is acked.
 * An event whose data does not match the declared schema goes there at once (it will never pass).
 * A version the consumer does not read is acked and skipped: publishers send a new version beside
 * the old one while consumers move over, so the consumer of the old one sees both.
 */
import type { EventEnvelope, EventSpec } from '@bazaar/contracts';
import type pg from 'pg';
import type { Logger } from 'pino';
import Value from 'typebox/value';
import type { BusSubscription, DeliveryOutcome } from '../bus/transport.ts';
import { fullJitterBackoff } from '../client/backoff.ts';
import { Deadline } from '../client/deadline.ts';
import { type RequestContext, runWithContext } from '../context.ts';
import type { KitMetrics } from '../metrics.ts';
import { endSpan, markFailed, type Span, startConsumerSpan, traceOf } from '../telemetry/spans.ts';
import { crashPoint } from '../test-hooks.ts';
import { continueTrace } from '../trace.ts';
import { type ConsumerDefinition, withTransaction } from './api.ts';

/** Options of `consumerSubscription`. */
export interface ConsumerRunnerOptions<Ctx> {
  service: string;
  consumer: ConsumerDefinition<Ctx>;
  pool: pg.Pool;
  /** What `handle` is given as its third argument (the service context). */
  ctx: Ctx;
  log: Logger;
  metrics: Pick<KitMetrics, 'eventsConsumed' | 'eventHandleDuration'>;
  /** Deliveries before an event goes to the dead-letter store. */
  maxAttempts: number;
  /** Upper bound of the first retry's pause (full jitter); it doubles per attempt up to `backoffCapMs`. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How long a handler's outgoing calls may take in all (their deadline). */
  handlerDeadlineMs?: number;
}

/** The outcome of handling an event once in a transaction. */
export type InboxOutcome = 'processed' | 'duplicate';

/** The bus group name of a consumer. */
export function consumerGroup(service: string, consumer: string): string {
  return `${service}.${consumer}`;
}

/**
 * Records `envelope` in the inbox of `consumer` and runs its handler, both in `tx` (the caller's
 * transaction); `duplicate` when the inbox already had it, and then nothing runs. The handler runs
 * in `context` (the delivery's), or — a redrive — in one of its own under a new consumer span.
 */
export async function handleOnce<Ctx>(
  tx: pg.PoolClient,
  consumer: ConsumerDefinition<Ctx>,
  envelope: EventEnvelope,
  ctx: Ctx,
  context?: RequestContext,
): Promise<InboxOutcome> {
  const { rowCount } = await tx.query(
    'INSERT INTO kit_inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [consumer.name, envelope.id],
  );
  if (rowCount === 0) return 'duplicate';
  if (context) {
    await runWithContext(context, () => consumer.handle(envelope, tx, ctx));
    return 'processed';
  }
  const span = startConsumerSpan(envelope, consumer.name, undefined);
  span?.setAttribute('bazaar.redrive', true);
  try {
    await runWithContext(eventContext(envelope, span), () => consumer.handle(envelope, tx, ctx));
  } catch (err) {
    if (span) endSpan(span, err);
    throw err;
  }
  span?.end();
  return 'processed';
}

/**
 * The context an event is handled in: the event's trace — under `span`, the consumer span, when
 * spans are recorded — so the handler's calls, events and log lines join the trace that raised it.
 */
export function eventContext(envelope: EventEnvelope, span: Span | undefined): RequestContext {
  const continued = continueTrace(envelope.traceparent);
  return {
    requestId: `event-${envelope.id}`,
    trace: span ? traceOf(span, continued.parentSpanId) : continued,
    deadline: Deadline.after(30_000),
  };
}

/** The spec `consumer` reads `envelope` with: `undefined` for a type or version it does not read. */
export function specFor(
  consumer: ConsumerDefinition<unknown>,
  envelope: EventEnvelope,
): EventSpec | undefined {
  return consumer.events.find((s) => s.type === envelope.type && s.version === envelope.version);
}

/** Why `data` does not match `spec`, or `undefined` when it does. */
export function invalidData(spec: EventSpec, data: unknown): string | undefined {
  if (Value.Check(spec.data, data)) return undefined;
  const first = [...Value.Errors(spec.data, data)][0];
  return `data does not match ${spec.type} v${spec.version}: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim();
}

/** Stores a failed event in the dead-letter store (again, if it was redriven and failed anew). */
export async function recordDeadLetter(
  db: pg.Pool | pg.PoolClient,
  letter: { consumer: string; envelope: EventEnvelope; error: string; attempts: number },
): Promise<void> {
  await db.query(
    `INSERT INTO kit_dead_letters (consumer, event_id, type, envelope, error, attempts)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (consumer, event_id) DO UPDATE SET
       error = EXCLUDED.error, attempts = EXCLUDED.attempts, envelope = EXCLUDED.envelope,
       failed_at = now(), redrive_requested_at = NULL, redriven_at = NULL`,
    [
      letter.consumer,
      letter.envelope.id,
      letter.envelope.type,
      JSON.stringify(letter.envelope),
      letter.error,
      letter.attempts,
    ],
  );
}

/** The text an error leaves in the dead-letter store. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return (err.stack ?? `${err.name}: ${err.message}`).slice(0, 4_000);
  return String(err).slice(0, 4_000);
}

/** The bus subscription of one consumer: what each delivery does. */
export function consumerSubscription<Ctx>({
  service,
  consumer,
  pool,
  ctx,
  log,
  metrics,
  maxAttempts,
  backoffBaseMs = 200,
  backoffCapMs = 30_000,
}: ConsumerRunnerOptions<Ctx>): BusSubscription {
  const backoff = fullJitterBackoff({ baseMs: backoffBaseMs, capMs: backoffCapMs });
  const group = consumerGroup(service, consumer.name);
  const skippedVersions = new Set<string>();
  const count = (envelope: EventEnvelope, outcome: string) =>
    metrics.eventsConsumed.inc({ consumer: consumer.name, type: envelope.type, outcome });

  async function deadLetter(
    envelope: EventEnvelope,
    error: string,
    attempts: number,
  ): Promise<DeliveryOutcome> {
    try {
      await recordDeadLetter(pool, { consumer: consumer.name, envelope, error, attempts });
    } catch (err) {
      log.warn({ err: (err as Error).message, eventId: envelope.id }, 'could not store a dead letter');
      return { retryInMs: backoff(attempts) };
    }
    count(envelope, 'dead');
    log.error(
      {
        consumer: consumer.name,
        eventId: envelope.id,
        type: envelope.type,
        attempts,
        error: error.split('\n')[0],
      },
      'event dead-lettered',
    );
    return 'ack';
  }

  // Each delivery is a consumer span; everything it does (inbox, handler, logs) runs in its context.
  async function handle(envelope: EventEnvelope, delivery: { attempt: number }): Promise<DeliveryOutcome> {
    const span = startConsumerSpan(envelope, group, delivery.attempt);
    const context = eventContext(envelope, span);
    try {
      return await runWithContext(context, () => handleDelivery(envelope, delivery.attempt, context, span));
    } finally {
      span?.end();
    }
  }

  async function handleDelivery(
    envelope: EventEnvelope,
    attempt: number,
    context: RequestContext,
    span: Span | undefined,
  ): Promise<DeliveryOutcome> {
    const spec = specFor(consumer as ConsumerDefinition<unknown>, envelope);
    if (!spec) {
      const key = `${envelope.type}@${envelope.version}`;
      if (!skippedVersions.has(key)) {
        skippedVersions.add(key);
        log.warn(
          { consumer: consumer.name, type: envelope.type, version: envelope.version },
          'event version not read by this consumer; skipped',
        );
      }
      count(envelope, 'skipped');
      span?.setAttribute('bazaar.outcome', 'skipped');
      return 'ack';
    }
    const invalid = invalidData(spec, envelope.data);
    if (invalid) {
      if (span) markFailed(span, invalid);
      return deadLetter(envelope, invalid, attempt);
    }
    const stopTimer = metrics.eventHandleDuration.startTimer({ consumer: consumer.name });
    try {
      const outcome = await withTransaction(pool, (tx) => handleOnce(tx, consumer, envelope, ctx, context));
      span?.setAttribute('bazaar.outcome', outcome);
      count(envelope, outcome);
      if (outcome === 'processed') crashPoint(`consumer:${consumer.name}:before-ack`);
      return 'ack';
    } catch (err) {
      if (span) markFailed(span, err);
      if (attempt >= maxAttempts) return deadLetter(envelope, describeError(err), attempt);
      count(envelope, 'failed');
      log.warn(
        {
          consumer: consumer.name,
          eventId: envelope.id,
          type: envelope.type,
          attempt,
          err: (err as Error).message,
        },
        'event handler failed; it will be retried',
      );
      return { retryInMs: backoff(attempt) };
    } finally {
      stopTimer();
    }
  }

  return {
    group,
    types: [...new Set(consumer.events.map((e) => e.type))],
    handle,
  };
}
