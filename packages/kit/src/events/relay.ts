/**
 * The outbox relay: moves a service's outbox rows to the bus in `seq` order and marks them sent.
 * Every instance runs one, but a transaction-scoped advisory lock lets one relay at a time, so the
 * order holds across replicas. A pass reads up to a batch of unsent rows, publishes them, marks
 * them and commits; a publish that fails rolls back, the rows stay, and the relay tries again with
 * backoff (they go when the bus returns, and the bus drops a copy it already has by event id).
 * Rows sent more than the retention ago are deleted in batches so the table stays small.
 * Order is `seq` order of the rows visible at each pass: two transactions that commit out of their
 * `seq` order go in commit order. Events about one subject keep their order, because the changes
 * they announce are serialized by the subject's row lock before the outbox row is written.
 * Each row is published under a producer span whose parent is the `traceparent` stored with the
 * row, and the event carries that span's `traceparent` to its consumers (the stored one when spans
 * are not recorded).
 */
import type { EventEnvelope } from '@bazaar/contracts';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BusTransport } from '../bus/transport.ts';
import type { KitMetrics } from '../metrics.ts';
import { endSpan, type Span, startProducerSpan, traceparentOf } from '../telemetry/spans.ts';
import { sleep } from '../time.ts';
import { createWaker } from './waker.ts';

/** Options of `startOutboxRelay`. */
export interface OutboxRelayOptions {
  pool: pg.Pool;
  transport: Pick<BusTransport, 'publish'>;
  log: Logger;
  metrics: Pick<KitMetrics, 'outboxPending' | 'outboxPublished' | 'outboxRelayFailures'>;
  /** Pause between passes when nothing woke the relay. */
  pollMs?: number;
  /** Most rows per pass (and per publish). */
  batchSize?: number;
  /** First pause after a failed pass; it doubles up to `backoffCapMs`. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A publish not done within this counts as failed (the rows go again; the bus drops copies). */
  publishTimeoutMs?: number;
  /** How long sent rows are kept (for inspection) before they are deleted. */
  sentRetentionMs?: number;
  /** How often sent rows past the retention are deleted. */
  cleanupEveryMs?: number;
}

/** A running relay. */
export interface OutboxRelay {
  /** Runs a pass now (the outbox NOTIFY calls it); a relay backing off after a failure waits on. */
  wake(): void;
  /** Finishes the pass in hand and stops. */
  stop(): Promise<void>;
}

/** The advisory lock that lets one instance of a service relay at a time (locks are per database). */
const RELAY_LOCK = 'bazaar:outbox-relay';
const CLEANUP_BATCH = 1_000;

/** Starts the relay loop of one instance. */
export function startOutboxRelay({
  pool,
  transport,
  log,
  metrics,
  pollMs = 5_000,
  batchSize = 200,
  backoffBaseMs = 100,
  backoffCapMs = 5_000,
  publishTimeoutMs = 10_000,
  sentRetentionMs = 3_600_000,
  cleanupEveryMs = 60_000,
}: OutboxRelayOptions): OutboxRelay {
  const stopSignal = new AbortController();
  const waker = createWaker(stopSignal.signal);
  // Written into the pass's SQL (several statements in one round trip take no parameters).
  const limit = Math.max(1, Math.floor(batchSize));

  /** One pass; answers how many rows it sent, or undefined when another instance holds the lock. */
  async function pass(): Promise<{ sent: number } | undefined> {
    const client = await pool.connect();
    try {
      // BEGIN, the lock and the read in one round trip. The read is its own statement, so its
      // snapshot (taken after the lock) sees everything the previous holder marked before it let
      // the lock go. Without the lock, the rows read are dropped.
      const [, lock, read] = (await client.query(
        `BEGIN; SELECT pg_try_advisory_xact_lock(hashtext('${RELAY_LOCK}')) AS locked;
         SELECT seq, envelope, traceparent FROM kit_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ${limit}`,
      )) as unknown as [
        unknown,
        { rows: { locked: boolean }[] },
        { rows: { seq: string; envelope: EventEnvelope; traceparent: string | null }[] },
      ];
      if (!lock.rows[0]?.locked) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const { rows } = read;
      if (rows.length > 0) {
        const envelopes = rows.map((r) => r.envelope);
        const spans = rows.map((r) => producing(r.envelope, r.traceparent ?? undefined));
        try {
          await withTimeout(transport.publish(envelopes), publishTimeoutMs, 'publish to the bus timed out');
        } catch (err) {
          for (const span of spans) if (span) endSpan(span, err);
          throw err;
        }
        for (const span of spans) span?.end();
        // The marks and the commit in one round trip; seqs are the database's own bigints.
        const seqs = rows.map((r) => BigInt(r.seq)).join(',');
        await client.query(
          `UPDATE kit_outbox SET sent_at = now() WHERE seq = ANY('{${seqs}}'::bigint[]); COMMIT`,
        );
      } else {
        await client.query('COMMIT');
      }
      for (const row of rows) metrics.outboxPublished.inc({ type: row.envelope.type });
      return { sent: rows.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async function cleanup(): Promise<void> {
    for (;;) {
      const { rowCount } = await pool.query(
        `DELETE FROM kit_outbox WHERE seq IN (
           SELECT seq FROM kit_outbox
           WHERE sent_at IS NOT NULL AND sent_at < now() - $1 * interval '1 millisecond'
           ORDER BY seq LIMIT $2)`,
        [sentRetentionMs, CLEANUP_BATCH],
      );
      if ((rowCount ?? 0) < CLEANUP_BATCH) return;
    }
  }

  async function countPending(): Promise<void> {
    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM kit_outbox WHERE sent_at IS NULL',
    );
    metrics.outboxPending.set(rows[0]?.n ?? 0);
  }

  async function run(): Promise<void> {
    let failures = 0;
    let lastCleanup = 0;
    let lastCount = 0;
    while (!stopSignal.signal.aborted) {
      waker.reset();
      let delay = pollMs;
      // What is left is known without asking after a pass that emptied the outbox as of its read.
      let pendingKnown = false;
      try {
        const result = await pass();
        if (failures > 0) log.info({ failures }, 'outbox relay recovered; sending what waited');
        failures = 0;
        if (result && result.sent === batchSize) delay = 0;
        if (result && result.sent < batchSize) {
          metrics.outboxPending.set(0);
          pendingKnown = true;
        }
        if (result && Date.now() - lastCleanup >= cleanupEveryMs) {
          lastCleanup = Date.now();
          await cleanup();
        }
      } catch (err) {
        failures++;
        metrics.outboxRelayFailures.inc();
        if (failures === 1) {
          log.warn({ err: (err as Error).message }, 'outbox relay failed; events wait in the outbox');
        }
        delay = Math.min(backoffCapMs, backoffBaseMs * 2 ** (failures - 1));
      }
      // Counted at most once per poll interval: while another instance relays, or rows wait.
      if (!pendingKnown && Date.now() - lastCount >= Math.min(pollMs, 1_000)) {
        lastCount = Date.now();
        await countPending().catch(() => undefined);
      }
      if (delay > 0) await waker.pause(delay, { ignoreWake: failures > 0 });
    }
  }

  const running = run();
  return {
    wake: waker.wake,
    async stop() {
      stopSignal.abort();
      await running;
    },
  };
}

/**
 * Starts the producer span of one row and sets the `traceparent` its event carries: the span's,
 * else the one stored with the row (rows from before the column keep the envelope's own).
 */
function producing(envelope: EventEnvelope, stored: string | undefined): Span | undefined {
  const span = startProducerSpan(envelope, stored ?? envelope.traceparent);
  const carried = span ? traceparentOf(span) : stored;
  if (carried) envelope.traceparent = carried;
  return span;
}

/** `promise`, or a rejection after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  const bound = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, bound.signal).then(() => {
        throw new Error(message);
      }),
    ]);
  } finally {
    bound.abort();
  }
}
