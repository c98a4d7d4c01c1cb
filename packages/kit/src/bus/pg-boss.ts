/**
 * The pg-boss member of the bus family: a PostgreSQL database (`BAZAAR_BUS_DATABASE_URL`, the
 * embedded cluster's `bus`) shared by every service, pg-boss's tables in a schema of their own. Each
 * consumer group is a queue; the group subscribes its queue to its event types, and a publish puts
 * one job per subscribed queue, with the event id as the job id, so a republished event is dropped
 * by the queue. A retry is a new job of the same queue that starts after the pause and carries the
 * attempt number; a worker that dies mid-event leaves its job active until pg-boss expires it and
 * hands it out again (after the ack timeout). A group receives the events published after its
 * queue subscribed: a group that subscribes later does not see earlier ones (JetStream's do).
 */
import type { EventEnvelope } from '@bazaar/contracts';
import type pg from 'pg';
import { type ConstructorOptions, type Job, type JobResult, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { fullJitterBackoff } from '../client/backoff.ts';
import { PreparingClient } from '../db/prepared.ts';
import { sleep } from '../time.ts';
import {
  type BusSubscription,
  type BusTransport,
  deliver,
  type TransportEvents,
  untilAborted,
} from './transport.ts';

/** Options of `pgBossTransport`. */
export interface PgBossTransportOptions {
  /** The bus database. */
  url: string;
  log: Logger;
  /** Schema of pg-boss's tables in the bus database. */
  schema?: string;
  /** `application_name` of its connections (the instance id). */
  application?: string;
  /** A delivery not finished within this is handed out again (a consumer that died mid-event). */
  ackTimeoutMs?: number;
  /** How often idle workers look for jobs whose start time came (retries); pg-boss's floor is 500. */
  pollMs?: number;
  /** Connections of the pg-boss pool. */
  poolMax?: number;
  /** pg-boss's queries with parameters as named prepared statements (default on; see `db/prepared.ts`). */
  prepare?: boolean;
  /** Pause between connection attempts while the bus is away. */
  reconnect?: { baseMs?: number; capMs?: number };
  events?: TransportEvents;
}

/** What a job of a group's queue carries. */
interface EventJob {
  envelope: EventEnvelope;
  /** Attempt number of this job; pg-boss's own retries (expiry, a failed retry send) add to it. */
  attempt: number;
}

const QUEUE_NOT_FOUND = 'PGBOSS_QUEUE_NOT_FOUND';

/** A pg-boss bus transport. */
export function pgBossTransport({
  url,
  log,
  schema = 'bazaar_bus',
  application = 'bazaar',
  ackTimeoutMs = 30_000,
  pollMs = 1_000,
  poolMax = 3,
  prepare = true,
  reconnect = {},
  events = {},
}: PgBossTransportOptions): BusTransport {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid pg-boss schema name: ${schema}`);
  const expireInSeconds = Math.max(1, Math.ceil(ackTimeoutMs / 1000));
  // Expiry is checked by pg-boss's supervision pass, so the pass runs a few times per ack timeout.
  const superviseSeconds = Math.min(60, Math.max(1, Math.floor(expireInSeconds / 3)));
  const pollingIntervalSeconds = Math.max(0.5, pollMs / 1000);
  const backoff = fullJitterBackoff({ baseMs: reconnect.baseMs ?? 500, capMs: reconnect.capMs ?? 5_000 });
  const stopSignal = new AbortController();
  let boss: PgBoss | undefined;
  let connected = false;
  let lastErrorLog = 0;
  let markConnected: () => void = () => undefined;
  const whenConnected = new Promise<void>((resolve) => {
    markConnected = resolve;
  });
  let running: Promise<void> | undefined;

  const setConnected = (now: boolean, error?: Error) => {
    if (now === connected) return;
    connected = now;
    if (now) events.onConnected?.();
    else events.onDisconnected?.(error ?? new Error('bus unreachable'));
  };
  const reportError = (error: Error) => {
    setConnected(false, error);
    // pg-boss reports every failed poll; one line in 30 s is enough to see the bus is away.
    if (Date.now() - lastErrorLog > 30_000) {
      lastErrorLog = Date.now();
      log.warn({ err: error.message }, 'pg-boss bus error');
    }
  };

  async function connect(): Promise<void> {
    for (let attempt = 1; !stopSignal.signal.aborted; attempt++) {
      // pg-boss hands its options on to pg.Pool, client class included: its statements are long
      // and run often, so each connection parses and plans them once.
      const options: ConstructorOptions & Pick<pg.PoolConfig, 'Client'> = {
        connectionString: url,
        schema,
        application_name: application,
        max: poolMax,
        ...(prepare ? { Client: PreparingClient } : {}),
        connectionTimeoutMillis: 3_000,
        useListenNotify: true,
        schedule: false,
        superviseIntervalSeconds: superviseSeconds,
        monitorIntervalSeconds: superviseSeconds,
      };
      const candidate = new PgBoss(options);
      candidate.on('error', reportError);
      try {
        await candidate.start();
        if (stopSignal.signal.aborted) {
          await candidate.stop({ graceful: false }).catch(() => undefined);
          return;
        }
        boss = candidate;
        setConnected(true);
        markConnected();
        return;
      } catch (err) {
        await candidate.stop({ graceful: false }).catch(() => undefined);
        reportError(err as Error);
        await sleep(backoff(attempt), stopSignal.signal).catch(() => undefined);
      }
    }
  }

  async function setUp(b: PgBoss, subscription: BusSubscription): Promise<void> {
    const { group, types } = subscription;
    const queue = {
      expireInSeconds,
      // The kit retries by sending a new job; these retries are pg-boss's own, after an expiry.
      retryLimit: 1_000_000,
      retryDelay: 1,
      retryBackoff: true,
      retryDelayMax: 30,
      // A completed job's row keeps its event id from being queued again for a day.
      deleteAfterSeconds: 86_400,
      notify: true,
    };
    await b.createQueue(group, queue);
    // createQueue leaves an existing queue as it was: settings changed since apply here.
    const { notify: _notify, retryDelayMax: _max, ...changeable } = queue;
    await b.updateQueue(group, changeable);
    const { rows } = await b
      .getDb()
      .executeSql(`SELECT event FROM ${schema}.subscription WHERE name = $1`, [group]);
    for (const row of rows as { event: string }[]) {
      if (!types.includes(row.event)) await b.unsubscribe(row.event, group);
    }
    for (const type of types) await b.subscribe(type, group);
    await b.work<EventJob>(
      group,
      {
        // Full batches are fetched back to back; a short one waits for the poll or a notification.
        batchSize: 16,
        burstWhenBatchFull: true,
        perJobResults: true,
        pollingIntervalSeconds,
        notifyPollingIntervalSeconds: pollingIntervalSeconds,
      },
      async (jobs) => {
        const results: JobResult[] = [];
        // One at a time, in the order fetched (creation order; events relayed in one batch share
        // a creation time, so their order among themselves is not kept).
        for (const job of jobs) {
          try {
            await handleJob(b, subscription, job);
            results.push({ id: job.id, status: 'completed' });
          } catch (err) {
            // The retry could not be queued: pg-boss's own retry delivers the job again.
            reportError(err as Error);
            results.push({ id: job.id, status: 'failed' });
          }
        }
        return results;
      },
    );
  }

  async function handleJob(b: PgBoss, subscription: BusSubscription, job: Job<EventJob>): Promise<void> {
    const { envelope, attempt = 1 } = job.data;
    const current = attempt + job.retryCount;
    const outcome = await deliver(subscription, envelope, { attempt: current });
    setConnected(true);
    if (outcome === 'ack') return;
    // Sent before this job completes: a crash in between delivers the event twice, which the
    // consumer's inbox absorbs, and never loses it.
    await b.send(
      subscription.group,
      { envelope, attempt: current + 1 },
      { startAfter: new Date(Date.now() + Math.max(0, outcome.retryInMs)) },
    );
  }

  async function subscribeWhenConnected(subscription: BusSubscription): Promise<void> {
    await Promise.race([whenConnected, untilAborted(stopSignal.signal)]);
    for (let attempt = 1; boss && !stopSignal.signal.aborted; attempt++) {
      try {
        await setUp(boss, subscription);
        return;
      } catch (err) {
        reportError(err as Error);
        await sleep(backoff(attempt), stopSignal.signal).catch(() => undefined);
      }
    }
  }

  return {
    kind: 'pg-boss',
    start() {
      running ??= connect();
    },
    connected: () => whenConnected,
    async publish(envelopes) {
      const b = boss;
      if (!b) throw new Error('the pg-boss bus is not connected');
      if (envelopes.length === 0) return;
      const types = [...new Set(envelopes.map((e) => e.type))];
      const { rows } = await b
        .getDb()
        .executeSql(`SELECT event, name FROM ${schema}.subscription WHERE event = ANY($1::text[])`, [types]);
      const queues = new Map<string, Set<string>>();
      for (const { event, name } of rows as { event: string; name: string }[]) {
        const subscribed = queues.get(name) ?? new Set<string>();
        queues.set(name, subscribed.add(event));
      }
      await Promise.all(
        [...queues].map(async ([queue, subscribed]) => {
          const seen = new Set<string>();
          const jobs = envelopes
            .filter((e) => subscribed.has(e.type) && !seen.has(e.id) && seen.add(e.id))
            .map((envelope) => ({ id: envelope.id, data: { envelope, attempt: 1 } satisfies EventJob }));
          try {
            await b.insert(queue, jobs);
          } catch (err) {
            // A subscription left behind by a deleted queue must not hold up every publish.
            if ((err as { code?: string }).code === QUEUE_NOT_FOUND) return;
            throw err;
          }
        }),
      );
      setConnected(true);
    },
    async subscribe(subscription) {
      await subscribeWhenConnected(subscription);
    },
    async stop() {
      stopSignal.abort();
      await running?.catch(() => undefined);
      await boss?.stop({ graceful: true, timeout: 5_000 }).catch(() => undefined);
      boss = undefined;
    },
  };
}
