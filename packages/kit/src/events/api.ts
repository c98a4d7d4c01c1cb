import { randomUUID } from 'node:crypto';
import type { EventEnvelope, EventSpec } from '@bazaar/contracts';
import type pg from 'pg';
import type { Static, TSchema } from 'typebox';
import { currentContext } from '../context.ts';
import { traceTransaction } from '../telemetry/spans.ts';
import { traceparent } from '../trace.ts';

/** Anything SQL can be sent through: a pool, or one client inside a transaction. */
export interface Queryable {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>>;
}

/** The channel the outbox NOTIFYs on commit, so the relay wakes at once instead of at its next poll. */
export const OUTBOX_CHANNEL = 'kit_outbox';

/**
 * Writes events to the service's outbox. Call it with the transaction that makes the change the
 * event announces: both commit, or neither does. The row keeps the `traceparent` of the work that
 * wrote it; the relay publishes the event under a producer span of that trace.
 */
export interface EventWriter {
  publish<S extends TSchema>(
    tx: Queryable,
    spec: EventSpec<S>,
    subject: string,
    data: Static<S>,
  ): Promise<EventEnvelope<Static<S>>>;
}

/** The outbox writer of service `source`. */
export function outboxWriter(source: string): EventWriter {
  return {
    async publish(tx, spec, subject, data) {
      const trace = currentContext()?.trace;
      const envelope: EventEnvelope<typeof data> = {
        id: randomUUID(),
        type: spec.type,
        version: spec.version,
        source,
        subject,
        occurredAt: new Date().toISOString(),
        data,
      };
      // One round trip: the row, and the notice that wakes the relay when the transaction commits.
      await tx.query(
        `WITH written AS (
           INSERT INTO kit_outbox (id, type, subject, envelope, traceparent) VALUES ($1, $2, $3, $4, $5)
           RETURNING 1
         )
         SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM written`,
        [envelope.id, envelope.type, subject, JSON.stringify(envelope), trace ? traceparent(trace) : null],
      );
      return envelope;
    },
  };
}

/**
 * A consumer of events: the kit delivers each event of `events` once per service (a durable
 * subscription named after the service), records its id in the inbox in the same transaction as
 * `handle`, and commits both; a redelivered event finds its inbox row and changes nothing. A throw
 * rolls back and the event comes again with backoff; after the last attempt it goes to the
 * dead-letter store.
 */
export interface ConsumerDefinition<Ctx = unknown> {
  /** Unique within the service: names the inbox rows and dead letters. */
  name: string;
  /** The event types and versions it reads. */
  events: EventSpec[];
  handle(event: EventEnvelope, tx: pg.PoolClient, ctx: Ctx): Promise<void>;
}

/**
 * Runs `fn` in a transaction on a client of `pool`: commits when it resolves, rolls back when it
 * throws (and rethrows). Within a request or an event it is a `db.transaction` span.
 */
export function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  return traceTransaction(() => runTransaction(pool, fn));
}

async function runTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
