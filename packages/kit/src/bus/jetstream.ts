/**
 * The NATS JetStream member of the bus family (`BAZAAR_NATS_URL`). One stream (`BAZAAR_NATS_STREAM`,
 * default `BAZAAR`, created when missing) holds every event on subject `<stream lower-case>.<type>`;
 * a publish carries `Nats-Msg-Id` = event id and waits for the stream's ack, so a republished event
 * within the duplicate window is dropped. Each group reads through durable pull consumers with
 * explicit acks, one per event type it reads (`<group>__<type>`, dots as `_`: servers before 2.10
 * take a single filter subject per consumer); a retry is a `nak` with the pause, a consumer that
 * dies mid-event gets its message again after the ack wait.
 */
import type { EventEnvelope } from '@bazaar/contracts';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';

import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { fullJitterBackoff } from '../client/backoff.ts';
import { sleep } from '../time.ts';
import {
  type BusSubscription,
  type BusTransport,
  deliver,
  type TransportEvents,
  untilAborted,
} from './transport.ts';

/** Options of `jetStreamTransport`. */
export interface JetStreamTransportOptions {
  /** Server URL(s), comma-separated. */
  url: string;
  /** Stream name; subjects are `<stream lower-case>.<event type>`. */
  stream?: string;
  log: Logger;
  /** Connection name shown by the server (the instance id). */
  name?: string;
  /** A delivery not acked within this is delivered again (a consumer that died mid-event). */
  ackTimeoutMs?: number;
  /** How long a publish waits for the stream's ack. */
  publishTimeoutMs?: number;
  /** How long the stream keeps events (a new durable reads what is still there). */
  maxAgeMs?: number;
  /** How long the stream remembers event ids to drop republished copies. */
  duplicateWindowMs?: number;
  /** Pause between connection attempts while the server is away. */
  reconnect?: { baseMs?: number; capMs?: number };
  events?: TransportEvents;
}

const NANOS_PER_MS = 1_000_000;

/** The subject prefix of a stream. */
export function streamSubjectPrefix(stream: string): string {
  return stream.toLowerCase();
}

/** The durable consumer name of a group's subscription to one event type. */
export function durableName(group: string, type: string): string {
  return `${group}__${type}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** A NATS JetStream bus transport. */
export function jetStreamTransport({
  url,
  stream = 'BAZAAR',
  log,
  name = 'bazaar',
  ackTimeoutMs = 30_000,
  publishTimeoutMs = 5_000,
  maxAgeMs = 7 * 24 * 3_600_000,
  duplicateWindowMs = 3_600_000,
  reconnect = {},
  events = {},
}: JetStreamTransportOptions): BusTransport {
  const prefix = streamSubjectPrefix(stream);
  const backoff = fullJitterBackoff({ baseMs: reconnect.baseMs ?? 500, capMs: reconnect.capMs ?? 5_000 });
  const stopSignal = new AbortController();
  const loops = new Set<Promise<void>>();
  const open = new Set<ConsumerMessages>();
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let connected = false;
  let running: Promise<void> | undefined;
  let markConnected: () => void = () => undefined;
  const whenConnected = new Promise<void>((resolve) => {
    markConnected = resolve;
  });

  const setConnected = (now: boolean, error?: Error) => {
    if (now === connected) return;
    connected = now;
    if (now) events.onConnected?.();
    else events.onDisconnected?.(error ?? new Error('NATS unreachable'));
  };

  async function ensureStream(manager: JetStreamManager): Promise<void> {
    try {
      await manager.streams.info(stream);
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== JetStreamApiCodes.StreamNotFound) throw err;
    }
    try {
      await manager.streams.add({
        name: stream,
        subjects: [`${prefix}.>`],
        storage: StorageType.File,
        max_age: maxAgeMs * NANOS_PER_MS,
        duplicate_window: duplicateWindowMs * NANOS_PER_MS,
      });
      log.info({ stream }, 'JetStream stream created');
    } catch (err) {
      // Another instance created it first.
      await manager.streams.info(stream).catch(() => {
        throw err;
      });
    }
  }

  async function connectLoop(): Promise<void> {
    for (let attempt = 1; !stopSignal.signal.aborted; attempt++) {
      let candidate: NatsConnection | undefined;
      try {
        candidate = await connect({
          servers: url.split(',').map((s) => s.trim()),
          name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1_000,
        });
        const manager = await jetstreamManager(candidate);
        await ensureStream(manager);
        if (stopSignal.signal.aborted) {
          await candidate.close().catch(() => undefined);
          return;
        }
        nc = candidate;
        jsm = manager;
        js = jetstream(candidate);
        setConnected(true);
        markConnected();
        void watchStatus(candidate);
        return;
      } catch (err) {
        await candidate?.close().catch(() => undefined);
        setConnected(false, err as Error);
        if (attempt === 1) log.warn({ err: (err as Error).message, url }, 'NATS not reachable; retrying');
        await sleep(backoff(attempt), stopSignal.signal).catch(() => undefined);
      }
    }
  }

  async function watchStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') setConnected(false, new Error('NATS connection lost'));
      else if (status.type === 'reconnect') setConnected(true);
    }
  }

  async function ensureDurable(group: string, type: string): Promise<string> {
    const durable = durableName(group, type);
    // Adds, or updates the existing durable to this configuration.
    await jsm!.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${prefix}.${type}`,
      ack_wait: ackTimeoutMs * NANOS_PER_MS,
      // The kit counts attempts and dead-letters; the server redelivers for as long as it is asked.
      max_deliver: -1,
      max_ack_pending: 1_000,
    });
    return durable;
  }

  async function handleMessage(subscription: BusSubscription, message: JsMsg): Promise<void> {
    let envelope: EventEnvelope;
    try {
      envelope = message.json<EventEnvelope>();
    } catch {
      log.error({ subject: message.subject, seq: message.seq }, 'unreadable message on the bus; dropped');
      message.term();
      return;
    }
    const outcome = await deliver(subscription, envelope, { attempt: message.info.deliveryCount });
    if (outcome === 'ack') message.ack();
    else message.nak(Math.max(0, Math.round(outcome.retryInMs)));
  }

  async function consumeLoop(subscription: BusSubscription, durable: string): Promise<void> {
    for (let attempt = 1; !stopSignal.signal.aborted; attempt++) {
      try {
        const consumer = await js!.consumers.get(stream, durable);
        const messages = await consumer.consume({ max_messages: 16 });
        open.add(messages);
        if (stopSignal.signal.aborted) await messages.close();
        attempt = 0;
        for await (const message of messages) {
          await handleMessage(subscription, message);
          if (stopSignal.signal.aborted) break;
        }
        open.delete(messages);
      } catch (err) {
        if (stopSignal.signal.aborted) return;
        log.warn({ err: (err as Error).message, durable }, 'JetStream consumer failed; restarting it');
        await sleep(backoff(Math.max(1, attempt)), stopSignal.signal).catch(() => undefined);
      }
    }
  }

  async function subscribeWhenConnected(subscription: BusSubscription): Promise<void> {
    await Promise.race([whenConnected, untilAborted(stopSignal.signal)]);
    for (const type of subscription.types) {
      for (let attempt = 1; !stopSignal.signal.aborted; attempt++) {
        try {
          const durable = await ensureDurable(subscription.group, type);
          const loop = consumeLoop(subscription, durable);
          loops.add(loop);
          void loop.finally(() => loops.delete(loop));
          break;
        } catch (err) {
          log.warn({ err: (err as Error).message, group: subscription.group, type }, 'could not subscribe');
          await sleep(backoff(attempt), stopSignal.signal).catch(() => undefined);
        }
      }
    }
  }

  return {
    kind: 'jetstream',
    start() {
      running ??= connectLoop();
    },
    connected: () => whenConnected,
    async publish(envelopes) {
      const client = js;
      if (!client || !connected) throw new Error('the NATS bus is not connected');
      // One connection keeps the order: the server stores them as sent, while the acks come back together.
      await Promise.all(
        envelopes.map((envelope) =>
          client.publish(`${prefix}.${envelope.type}`, JSON.stringify(envelope), {
            msgID: envelope.id,
            timeout: publishTimeoutMs,
          }),
        ),
      );
    },
    subscribe: subscribeWhenConnected,
    async stop() {
      stopSignal.abort();
      await running?.catch(() => undefined);
      await Promise.all([...open].map((m) => m.close().catch(() => undefined)));
      await Promise.all([...loops]);
      await nc?.drain().catch(() => undefined);
      nc = undefined;
      js = undefined;
    },
  };
}
