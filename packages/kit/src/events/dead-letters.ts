/**
 * The dead-letter store of a service (`kit_dead_letters`): events a consumer failed on every attempt.
 * `bazaar events dead` lists them (`listDeadLetters`), `bazaar events redrive` marks them for another
 * go (`requestRedrive`), and a loop in each instance of the service takes the marked ones (one
 * instance per letter, by row lock), runs the consumer's handler with the inbox in the letter's
 * transaction, and marks it redriven, or, when it fails again, records the new error and clears
 * the request (it waits for the next `redrive`).
 */
import type { EventEnvelope } from '@bazaar/contracts';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type KitMetrics, scrapeTimeGauge } from '../metrics.ts';
import type { ConsumerDefinition, Queryable } from './api.ts';
import { describeError, handleOnce, invalidData, specFor } from './consumers.ts';
import { createWaker } from './waker.ts';

/** The channel `requestRedrive` NOTIFYs, so the instances act at once instead of at their next poll. */
export const DEAD_LETTER_CHANNEL = 'kit_dead_letters';

/** One event in the dead-letter store. */
export interface DeadLetter {
  id: number;
  /** The consumer (its name within the service) that failed on it. */
  consumer: string;
  eventId: string;
  type: string;
  envelope: EventEnvelope;
  /** The last error (stack trace). */
  error: string;
  attempts: number;
  failedAt: Date;
  /** Set by `requestRedrive`; cleared when the redrive fails. */
  redriveRequestedAt: Date | null;
  /** Set when a redrive processed it (or found it already processed). */
  redrivenAt: Date | null;
}

interface DeadLetterRow {
  id: string;
  consumer: string;
  event_id: string;
  type: string;
  envelope: EventEnvelope;
  error: string;
  attempts: number;
  failed_at: Date;
  redrive_requested_at: Date | null;
  redriven_at: Date | null;
}

/** The dead letters of the service database behind `db`, oldest first (redriven ones too). */
export async function listDeadLetters(
  db: Queryable,
  options: { limit?: number } = {},
): Promise<DeadLetter[]> {
  const { rows } = await db.query<DeadLetterRow>(
    `SELECT id, consumer, event_id, type, envelope, error, attempts, failed_at, redrive_requested_at, redriven_at
     FROM kit_dead_letters ORDER BY id LIMIT $1`,
    [options.limit ?? 1_000],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    consumer: r.consumer,
    eventId: r.event_id,
    type: r.type,
    envelope: r.envelope,
    error: r.error,
    attempts: r.attempts,
    failedAt: r.failed_at,
    redriveRequestedAt: r.redrive_requested_at,
    redrivenAt: r.redriven_at,
  }));
}

/**
 * Asks the service's instances to process dead letters again: the one numbered `id`, or every one
 * not yet redriven. Returns how many were marked (none when `id` names a redriven or unknown one).
 */
export async function requestRedrive(db: Queryable, options: { id?: number } = {}): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE kit_dead_letters SET redrive_requested_at = now()
     WHERE redriven_at IS NULL AND ($1::bigint IS NULL OR id = $1::bigint)`,
    [options.id ?? null],
  );
  await db.query(`SELECT pg_notify('${DEAD_LETTER_CHANNEL}', '')`);
  return rowCount ?? 0;
}

/**
 * `bazaar_dead_letters_waiting`, read at scrape time: events in the dead-letter store not redriven
 * (every instance of a service reports the same table; read it as max by service).
 */
export function observeDeadLetters(pool: pg.Pool, registry: Registry): void {
  scrapeTimeGauge(registry, {
    name: 'bazaar_dead_letters_waiting',
    help: 'Events in the dead-letter store that were not redriven',
    read: async () => {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM kit_dead_letters WHERE redriven_at IS NULL',
      );
      return rows[0]?.n ?? 0;
    },
  });
}

/** Options of `startRedriver`. */
export interface RedriverOptions<Ctx> {
  pool: pg.Pool;
  consumers: ConsumerDefinition<Ctx>[];
  ctx: Ctx;
  log: Logger;
  metrics: Pick<KitMetrics, 'eventsConsumed'>;
  /**
   * Pause between looks when no notification woke the loop: only a backstop, since a redrive
   * request NOTIFYs and the listener wakes the loop after every (re)connection.
   */
  pollMs?: number;
}

/** A running redrive loop. */
export interface Redriver {
  /** Looks now (the NOTIFY of `requestRedrive` calls it). */
  wake(): void;
  stop(): Promise<void>;
}

/** Starts the loop that carries out redrive requests for `consumers`. */
export function startRedriver<Ctx>({
  pool,
  consumers,
  ctx,
  log,
  metrics,
  pollMs = 30_000,
}: RedriverOptions<Ctx>): Redriver {
  const stopSignal = new AbortController();
  const waker = createWaker(stopSignal.signal);

  /** Takes one requested letter and tries it; false when none was waiting. */
  async function redriveOne(): Promise<boolean> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; consumer: string; envelope: EventEnvelope }>(
        `SELECT id, consumer, envelope FROM kit_dead_letters
         WHERE redrive_requested_at IS NOT NULL AND redriven_at IS NULL
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      const letter = rows[0];
      if (!letter) {
        await client.query('COMMIT');
        return false;
      }
      const { envelope } = letter;
      const consumer = consumers.find((c) => c.name === letter.consumer);
      const spec = consumer && specFor(consumer as ConsumerDefinition<unknown>, envelope);
      const refusal = !consumer
        ? `no consumer named ${letter.consumer} in this service`
        : !spec
          ? `${consumer.name} does not read ${envelope.type} v${envelope.version}`
          : invalidData(spec, envelope.data);
      let error = refusal;
      if (!error && consumer) {
        await client.query('SAVEPOINT redrive');
        try {
          await handleOnce(client, consumer, envelope, ctx);
        } catch (err) {
          await client.query('ROLLBACK TO SAVEPOINT redrive');
          error = describeError(err);
        }
      }
      if (error) {
        await client.query(
          `UPDATE kit_dead_letters SET error = $2, attempts = attempts + 1, failed_at = now(),
             redrive_requested_at = NULL WHERE id = $1`,
          [letter.id, error],
        );
      } else {
        await client.query('UPDATE kit_dead_letters SET redriven_at = now() WHERE id = $1', [letter.id]);
      }
      await client.query('COMMIT');
      const outcome = error ? 'dead' : 'redriven';
      metrics.eventsConsumed.inc({ consumer: letter.consumer, type: envelope.type, outcome });
      if (error) {
        log.warn(
          { id: Number(letter.id), consumer: letter.consumer, error: error.split('\n')[0] },
          'redrive failed',
        );
      } else {
        log.info(
          { id: Number(letter.id), consumer: letter.consumer, eventId: envelope.id },
          'dead letter redriven',
        );
      }
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async function run(): Promise<void> {
    let failing = false;
    while (!stopSignal.signal.aborted) {
      waker.reset();
      try {
        while (!stopSignal.signal.aborted && (await redriveOne()));
        failing = false;
      } catch (err) {
        if (!failing) log.warn({ err: (err as Error).message }, 'redrive loop failed; trying again');
        failing = true;
      }
      await waker.pause(pollMs);
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
