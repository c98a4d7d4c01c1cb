/**
 * A dedicated PostgreSQL connection that LISTENs on the kit's channels (new outbox rows, redrive
 * requests) and wakes their loops, reconnecting when the connection is lost. Notifications are only
 * a shortcut: each loop also polls, so one missed while reconnecting delays work, never loses it.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { fullJitterBackoff } from '../client/backoff.ts';
import { sleep } from '../time.ts';

/** Options of `startPgListener`. */
export interface PgListenerOptions {
  /** The pool whose connection settings the listener copies (it does not take a pool client). */
  pool: pg.Pool;
  /** Channel names (plain identifiers). */
  channels: string[];
  /** Called on every notification, and once per channel after each (re)connection. */
  onNotify(channel: string): void;
  log: Logger;
}

/** A running listener. */
export interface PgListener {
  stop(): Promise<void>;
}

/** Starts listening in the background; a database that is away is retried with backoff. */
export function startPgListener({ pool, channels, onNotify, log }: PgListenerOptions): PgListener {
  for (const channel of channels) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name: ${channel}`);
  }
  const backoff = fullJitterBackoff({ baseMs: 200, capMs: 5_000 });
  const stopSignal = new AbortController();
  let client: pg.Client | undefined;

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopSignal.signal.aborted) {
      const connection = new pg.Client({ ...pool.options, keepAlive: true });
      client = connection;
      // A second error after the first must not go unheard (an unheard 'error' ends the process).
      connection.on('error', () => undefined);
      try {
        const lost = new Promise<Error>((resolve) => {
          connection.once('error', resolve);
          connection.once('end', () => resolve(new Error('connection ended')));
        });
        await connection.connect();
        connection.on('notification', (n) => onNotify(n.channel));
        for (const channel of channels) await connection.query(`LISTEN ${channel}`);
        if (failures > 0) log.info('event listener reconnected');
        failures = 0;
        // Whatever was notified while we were away is picked up now.
        for (const channel of channels) onNotify(channel);
        const error = await Promise.race([lost, untilStopped()]);
        if (error) throw error;
      } catch (err) {
        if (stopSignal.signal.aborted) break;
        failures++;
        if (failures === 1) log.warn({ err: (err as Error).message }, 'event listener lost its connection');
      } finally {
        connection.removeAllListeners('notification');
        await connection.end().catch(() => undefined);
        client = undefined;
      }
      if (failures > 0) await sleep(backoff(failures), stopSignal.signal).catch(() => undefined);
    }
  }

  function untilStopped(): Promise<undefined> {
    return new Promise((resolve) => {
      if (stopSignal.signal.aborted) resolve(undefined);
      stopSignal.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
  }

  const running = run();
  return {
    async stop() {
      stopSignal.abort();
      await client?.end().catch(() => undefined);
      await running;
    },
  };
}
