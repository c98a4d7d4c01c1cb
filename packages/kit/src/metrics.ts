import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { TimedSeries } from './timed-series.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The kit's metrics of one instance. Labels are bounded sets only (QUALITY.md). */
export interface KitMetrics {
  registry: Registry;
  /**
   * Whether requests served and calls made are counted and timed (`httpServer`, `clientCalls`):
   * `BAZAAR_REQUEST_METRICS` at start, then the config center's `metrics.requests`.
   */
  countRequests: boolean;
  /** `http_server_requests_total` and `http_server_request_duration_seconds`. */
  httpServer: TimedSeries<'route' | 'method' | 'status'>;
  httpInFlight: Gauge;
  deadlineRejected: Counter<'stage'>;
  /** `bazaar_client_calls_total` and `bazaar_client_call_duration_seconds`. */
  clientCalls: TimedSeries<'target' | 'outcome'>;
  clientRetries: Counter<'target' | 'reason'>;
  clientRetryBudgetExhausted: Counter<'target'>;
  clientEjections: Counter<'target' | 'reason'>;
  clientCircuitState: Gauge<'target' | 'instance'>;
  clientCircuitTransitions: Counter<'target' | 'state'>;
  clientInstances: Gauge<'target' | 'state'>;
  registryConnected: Gauge;
  /** Outbox rows not yet on the bus (every instance reports it; read it as max by service). */
  outboxPending: Gauge;
  outboxPublished: Counter<'type'>;
  outboxRelayFailures: Counter;
  eventsConsumed: Counter<'consumer' | 'type' | 'outcome'>;
  eventHandleDuration: Histogram<'consumer'>;
  busConnected: Gauge<'transport'>;
}

/**
 * Creates the metrics of one instance on its own registry, `service` on every series; requests and
 * calls are counted unless `countRequests` is false (`BAZAAR_REQUEST_METRICS`).
 */
export function createMetrics(service: string, { countRequests = true } = {}): KitMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    countRequests,
    httpServer: new TimedSeries({
      counter: {
        name: 'http_server_requests_total',
        help: 'HTTP requests served, by route template, method and status class',
      },
      histogram: {
        name: 'http_server_request_duration_seconds',
        help: 'HTTP request latency, by route template, method and status class',
        buckets: LATENCY_BUCKETS,
      },
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    httpInFlight: new Gauge({
      name: 'http_server_requests_in_flight',
      help: 'HTTP requests being served now',
      registers,
    }),
    deadlineRejected: new Counter({
      name: 'bazaar_deadline_exceeded_total',
      help: 'Work not started or abandoned because its deadline had passed, by stage',
      labelNames: ['stage'],
      registers,
    }),
    clientCalls: new TimedSeries({
      counter: {
        name: 'bazaar_client_calls_total',
        help: 'Calls to other services, by target service and outcome',
      },
      histogram: {
        name: 'bazaar_client_call_duration_seconds',
        help: 'Latency of calls to other services (all attempts), by target and outcome',
        buckets: LATENCY_BUCKETS,
      },
      labelNames: ['target', 'outcome'],
      registers,
    }),
    clientRetries: new Counter({
      name: 'bazaar_client_retries_total',
      help: 'Retried attempts, by target service and the reason of the failed attempt',
      labelNames: ['target', 'reason'],
      registers,
    }),
    clientRetryBudgetExhausted: new Counter({
      name: 'bazaar_client_retry_budget_exhausted_total',
      help: 'Retries refused because the retry budget was spent',
      labelNames: ['target'],
      registers,
    }),
    clientEjections: new Counter({
      name: 'bazaar_client_ejections_total',
      help: 'Instances ejected from load balancing, by target and reason',
      labelNames: ['target', 'reason'],
      registers,
    }),
    clientCircuitState: new Gauge({
      name: 'bazaar_client_circuit_state',
      help: 'Circuit state per target instance: 0 closed, 1 open, 2 half-open',
      labelNames: ['target', 'instance'],
      registers,
    }),
    clientCircuitTransitions: new Counter({
      name: 'bazaar_client_circuit_transitions_total',
      help: 'Circuit breaker transitions, by target and new state',
      labelNames: ['target', 'state'],
      registers,
    }),
    clientInstances: new Gauge({
      name: 'bazaar_client_instances',
      help: 'Instances known for a target, by state (available, ejected, open)',
      labelNames: ['target', 'state'],
      registers,
    }),
    registryConnected: new Gauge({
      name: 'bazaar_registry_watch_connected',
      help: '1 while the registry watch stream is connected',
      registers,
    }),
    outboxPending: new Gauge({
      name: 'bazaar_outbox_pending',
      help: 'Events in the outbox not yet published to the bus',
      registers,
    }),
    outboxPublished: new Counter({
      name: 'bazaar_outbox_published_total',
      help: 'Events the outbox relay published to the bus, by event type',
      labelNames: ['type'],
      registers,
    }),
    outboxRelayFailures: new Counter({
      name: 'bazaar_outbox_relay_failures_total',
      help: 'Relay passes that failed (bus or database away); the rows stay and go later',
      registers,
    }),
    eventsConsumed: new Counter({
      name: 'bazaar_events_consumed_total',
      help: 'Event deliveries to consumers, by consumer, type and outcome (processed, duplicate, failed, dead, skipped, redriven)',
      labelNames: ['consumer', 'type', 'outcome'],
      registers,
    }),
    eventHandleDuration: new Histogram({
      name: 'bazaar_event_handle_duration_seconds',
      help: 'Time to handle one delivered event (inbox, handler, commit), by consumer',
      labelNames: ['consumer'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    busConnected: new Gauge({
      name: 'bazaar_bus_connected',
      help: '1 while the event bus is connected, by transport (pg-boss, jetstream)',
      labelNames: ['transport'],
      registers,
    }),
  };
}

/** Status class label of a status code: `2xx`, `4xx`, ... */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * A gauge read at scrape time (a database count, an age). A read that fails, or takes longer than
 * `timeoutMs`, keeps the last value: a slow or absent database never fails or stalls a scrape.
 */
export function scrapeTimeGauge(
  registry: Registry,
  options: { name: string; help: string; read: () => Promise<number>; timeoutMs?: number },
): Gauge {
  const timeoutMs = options.timeoutMs ?? 500;
  return new Gauge({
    name: options.name,
    help: options.help,
    registers: [registry],
    async collect() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      });
      try {
        const value = await Promise.race([options.read(), late]);
        if (value !== undefined) this.set(value);
      } catch {
        // keep the last value
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
