/**
 * The event runtime of one instance, as `startService` runs it: the bus transport chosen by
 * configuration, the outbox relay, the consumers' subscriptions, the redrive loop, and one LISTEN
 * connection that wakes the relay and the redrive loop. Without a bus it warns and runs only the
 * redrive loop: events wait in the outbox, and go when the service next starts with a bus.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { selectTransport } from '../bus/select.ts';
import type { BusTransport } from '../bus/transport.ts';
import type { KitConfig } from '../config.ts';
import type { KitMetrics } from '../metrics.ts';
import { sleep } from '../time.ts';
import { type ConsumerDefinition, OUTBOX_CHANNEL } from './api.ts';
import { consumerSubscription } from './consumers.ts';
import { DEAD_LETTER_CHANNEL, type Redriver, startRedriver } from './dead-letters.ts';
import { type PgListener, startPgListener } from './listener.ts';
import { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './relay.ts';

/** Options of `startEventRuntime`. */
export interface EventRuntimeOptions<Ctx> {
  service: string;
  instanceId: string;
  /** The service's own database (outbox, inbox, dead letters). */
  pool: pg.Pool;
  consumers: ConsumerDefinition<Ctx>[];
  /** What consumers' handlers are given (the service context). */
  ctx: Ctx;
  config: Pick<
    KitConfig,
    | 'BAZAAR_NATS_URL'
    | 'BAZAAR_NATS_STREAM'
    | 'BAZAAR_BUS_DATABASE_URL'
    | 'BAZAAR_EVENT_MAX_ATTEMPTS'
    | 'BAZAAR_EVENT_ACK_TIMEOUT_MS'
    | 'BAZAAR_OUTBOX_POLL_MS'
    | 'BAZAAR_DB_PREPARED_STATEMENTS'
  >;
  log: Logger;
  metrics: KitMetrics;
  /** The bus; by default the one the configuration names (`null`: none, whatever it says). */
  transport?: BusTransport | null;
  /** How long start-up waits for the subscriptions before it goes on without them. */
  subscribeWaitMs?: number;
  /** Tuning for tests: the relay's pauses, the consumers' backoff, the redrive poll. */
  relay?: Partial<
    Pick<OutboxRelayOptions, 'backoffBaseMs' | 'backoffCapMs' | 'batchSize' | 'publishTimeoutMs'>
  >;
  consumerBackoff?: { baseMs?: number; capMs?: number };
  redrivePollMs?: number;
}

/** A running event runtime. */
export interface EventRuntime {
  /** The bus in use, if any. */
  readonly transport: BusTransport | undefined;
  /** Stops the relay (after its pass in hand), the redrive loop and the bus deliveries (after the
   * events in hand), then closes the bus connection; the pool stays open for the caller to close. */
  stop(): Promise<void>;
}

/** Starts the event runtime of an instance whose service has a database. */
export async function startEventRuntime<Ctx>(options: EventRuntimeOptions<Ctx>): Promise<EventRuntime> {
  const { service, instanceId, pool, consumers, ctx, config, log, metrics } = options;
  const names = new Set<string>();
  for (const consumer of consumers) {
    if (names.has(consumer.name)) throw new Error(`${service} declares two consumers named ${consumer.name}`);
    names.add(consumer.name);
  }
  const transport =
    options.transport === null
      ? undefined
      : (options.transport ??
        selectTransport(config, {
          log,
          instanceId,
          events: {
            onConnected: () => {
              metrics.busConnected.set({ transport: kindOf(config) }, 1);
              log.info({ transport: kindOf(config) }, 'event bus connected');
            },
            onDisconnected: (error) => {
              metrics.busConnected.set({ transport: kindOf(config) }, 0);
              log.warn({ transport: kindOf(config), err: error.message }, 'event bus unreachable');
            },
          },
        }));
  if (!transport) {
    log.warn(
      'no event bus configured (set BAZAAR_BUS_DATABASE_URL or BAZAAR_NATS_URL): events stay in the outbox' +
        (consumers.length > 0 ? ' and this service’s consumers receive nothing' : ''),
    );
  }
  if (transport && options.transport === undefined) {
    metrics.busConnected.set({ transport: transport.kind }, 0);
  }
  transport?.start();

  if (transport && consumers.length > 0) {
    const subscribed = Promise.all(
      consumers.map((consumer) =>
        transport.subscribe(
          consumerSubscription({
            service,
            consumer,
            pool,
            ctx,
            log,
            metrics,
            maxAttempts: config.BAZAAR_EVENT_MAX_ATTEMPTS,
            backoffBaseMs: options.consumerBackoff?.baseMs,
            backoffCapMs: options.consumerBackoff?.capMs,
          }),
        ),
      ),
    ).then(
      () => true,
      (err: Error) => {
        log.error({ err: err.message }, 'consumers could not subscribe');
        return false;
      },
    );
    const bound = new AbortController();
    const inTime = await Promise.race([
      subscribed,
      sleep(options.subscribeWaitMs ?? 5_000, bound.signal).then(
        () => false,
        () => false,
      ),
    ]);
    bound.abort();
    if (!inTime) log.warn('the event bus is not reachable yet: consumers subscribe when it is');
  }

  // After the subscriptions: on a fresh bus, this service's own consumers exist before its
  // outbox (which may hold events for them) is published.
  const relay: OutboxRelay | undefined = transport
    ? startOutboxRelay({
        pool,
        transport,
        log,
        metrics,
        pollMs: config.BAZAAR_OUTBOX_POLL_MS,
        ...options.relay,
      })
    : undefined;
  const redriver: Redriver | undefined =
    consumers.length > 0
      ? startRedriver({ pool, consumers, ctx, log, metrics, pollMs: options.redrivePollMs })
      : undefined;
  const channels = [...(relay ? [OUTBOX_CHANNEL] : []), ...(redriver ? [DEAD_LETTER_CHANNEL] : [])];
  const listener: PgListener | undefined =
    channels.length > 0
      ? startPgListener({
          pool,
          channels,
          log,
          onNotify: (channel) => (channel === OUTBOX_CHANNEL ? relay?.wake() : redriver?.wake()),
        })
      : undefined;

  return {
    transport,
    async stop() {
      await listener?.stop();
      await relay?.stop();
      await redriver?.stop();
      await transport?.stop();
    },
  };
}

function kindOf(config: Pick<KitConfig, 'BAZAAR_NATS_URL'>): string {
  return config.BAZAAR_NATS_URL ? 'jetstream' : 'pg-boss';
}
