/**
 * Bazaar's alerting rules: what an operator must act on. This list is the only place they are
 * written: `npx bazaar alert-rules` renders it to `deploy/prometheus/` (rules and promtool tests
 * made from the examples), and the gateway's embedded evaluator computes it for the ops console.
 */
import {
  above,
  equals,
  instant,
  maxBy,
  minutes,
  notMatches,
  quantile,
  ratio,
  selector,
  sumRate,
} from './expr.ts';
import { type AlertRule, alertRule, type ExampleSeries } from './rule.ts';

/**
 * Requests that are not the service's traffic: scrapes, health checks, and the long-lived event
 * streams (held open for minutes, they would read as latency). A regular expression over the whole
 * `route` label, as PromQL matches it (anchored at both ends).
 */
export const OWN_TRAFFIC = '/metrics|/health/.*|/api/ops/watch|/v1/watch';

/** The share of a service's requests that may fail (5xx) over the window before it pages. */
export const ERROR_RATE_THRESHOLD = 0.05;
/** The p99 latency, in seconds, a service's requests stay under. */
export const LATENCY_P99_SECONDS = 1;
/** The age, in seconds, the oldest unsent outbox row may reach. */
export const OUTBOX_LAG_SECONDS = 60;
/** The share of card authorizations that may be declined before someone looks. */
export const DECLINE_RATE_THRESHOLD = 0.3;

const requests = (labels: Record<string, string> = {}) =>
  selector('http_server_requests_total', { ...labels, route: notMatches(OWN_TRAFFIC) });

/** The rules, evaluated in this order. */
export const alertRules: readonly AlertRule[] = [
  alertRule({
    name: 'BazaarHighErrorRate',
    severity: 'page',
    summary: 'More than 5 % of the requests a service serves fail with 5xx.',
    windowSeconds: minutes(5),
    forSeconds: minutes(2),
    condition: (window) =>
      above(
        ratio(
          sumRate(requests({ status: '5xx' }), window, ['service']),
          sumRate(requests(), window, ['service']),
        ),
        ERROR_RATE_THRESHOLD,
      ),
    examples: [
      {
        title: 'a fifth of catalog requests fail while orders answer',
        atMinute: 10,
        series: [
          served('catalog', '2xx', ramp(240)),
          served('catalog', '5xx', ramp(60)),
          served('orders', '2xx', ramp(120), '/api/orders'),
          served('orders', '5xx', flat(0), '/api/orders'),
        ],
        firing: [{ service: 'catalog' }],
      },
      {
        title: 'one request in a hundred fails, and failing health checks are not traffic',
        atMinute: 10,
        series: [
          served('catalog', '2xx', ramp(99)),
          served('catalog', '5xx', ramp(1)),
          served('catalog', '5xx', ramp(60), '/health/ready'),
        ],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarHighLatency',
    severity: 'ticket',
    summary: 'The p99 latency of the requests a service serves is over 1 s.',
    windowSeconds: minutes(5),
    forSeconds: minutes(5),
    condition: (window) =>
      above(
        quantile(
          0.99,
          selector('http_server_request_duration_seconds_bucket', { route: notMatches(OWN_TRAFFIC) }),
          window,
          ['service'],
        ),
        LATENCY_P99_SECONDS,
      ),
    examples: [
      {
        title: 'one catalog request in twenty takes over a second',
        atMinute: 10,
        series: latencies('catalog', { '0.1': 30, '0.5': 54, '1': 57, '2.5': 60, '+Inf': 60 }),
        firing: [{ service: 'catalog' }],
      },
      {
        title: 'every catalog request takes under half a second',
        atMinute: 10,
        series: latencies('catalog', { '0.1': 57, '0.5': 60, '1': 60, '2.5': 60, '+Inf': 60 }),
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarInstanceDown',
    severity: 'page',
    summary: 'An instance does not answer its metrics scrape.',
    forSeconds: minutes(1),
    condition: () => equals(instant(selector('up')), 0),
    examples: [
      {
        title: 'one of two catalog instances stopped answering five minutes ago',
        atMinute: 10,
        series: [up('10.0.0.11:8080', [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]), up('10.0.0.12:8080', flat(1))],
        firing: [{ service: 'catalog', instance: '10.0.0.11:8080' }],
      },
      {
        title: 'an instance missing one scrape is not down yet',
        atMinute: 10,
        series: [up('10.0.0.11:8080', [...flat(1, 9), 0])],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarCircuitOpen',
    severity: 'ticket',
    summary: 'A circuit breaker to an instance has stayed open (or half-open) for 5 minutes.',
    forSeconds: minutes(5),
    condition: () =>
      above(maxBy(selector('bazaar_client_circuit_state'), ['service', 'target', 'instance']), 0),
    examples: [
      {
        title: "the gateway's circuits to a catalog instance open and keep failing their probes",
        atMinute: 10,
        series: [
          circuit('10.0.0.11:8080', 'gateway-1', [0, 0, 1, 2, 1, 1, 2, 1, 1, 1, 1]),
          circuit('10.0.0.11:8080', 'gateway-2', [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
          circuit('10.0.0.12:8080', 'gateway-1', flat(0)),
        ],
        firing: [{ service: 'gateway', target: 'catalog', instance: '10.0.0.11:8080' }],
      },
      {
        title: 'a circuit that opens and closes again within minutes',
        atMinute: 10,
        series: [circuit('10.0.0.11:8080', 'gateway-1', [0, 0, 1, 1, 2, 0, 0, 0, 1, 0, 0])],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarOutboxLag',
    severity: 'page',
    summary: "Events wait in a service's outbox for more than a minute: the bus is not taking them.",
    forSeconds: minutes(2),
    condition: () => above(maxBy(selector('bazaar_outbox_lag_seconds'), ['service']), OUTBOX_LAG_SECONDS),
    examples: [
      {
        title: "orders' oldest unsent event keeps getting older",
        atMinute: 10,
        series: [
          gauge('bazaar_outbox_lag_seconds', 'orders', [0, 0, 0, 0, 30, 90, 150, 210, 270, 330, 390]),
          gauge('bazaar_outbox_lag_seconds', 'orders', [0, 0, 0, 0, 30, 90, 150, 210, 270, 330, 390], 2),
          gauge('bazaar_outbox_lag_seconds', 'cart', flat(0)),
        ],
        firing: [{ service: 'orders' }],
      },
      {
        title: 'events leave the outbox within seconds',
        atMinute: 10,
        series: [gauge('bazaar_outbox_lag_seconds', 'orders', [0, 2, 0, 1, 0, 0, 3, 0, 1, 0, 0])],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarDeadLetters',
    severity: 'ticket',
    summary: 'A consumer gave up on events: inspect them with `bazaar events dead` and redrive.',
    forSeconds: minutes(1),
    condition: () => above(maxBy(selector('bazaar_dead_letters_waiting'), ['service']), 0),
    examples: [
      {
        title: 'a dead letter waits in the cart',
        atMinute: 10,
        series: [gauge('bazaar_dead_letters_waiting', 'cart', [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])],
        firing: [{ service: 'cart' }],
      },
      {
        title: 'dead letters redriven before the alert fired',
        atMinute: 10,
        series: [gauge('bazaar_dead_letters_waiting', 'cart', [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0])],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarStuckSagas',
    severity: 'page',
    summary: 'Checkouts have been PENDING for more than 2 minutes: a saga step keeps failing.',
    forSeconds: minutes(2),
    condition: () => above(maxBy(selector('bazaar_sagas_stuck'), ['service']), 0),
    examples: [
      {
        title: 'orders stay pending',
        atMinute: 10,
        series: [gauge('bazaar_sagas_stuck', 'orders', [0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2])],
        firing: [{ service: 'orders' }],
      },
      {
        title: 'every saga ends',
        atMinute: 10,
        series: [gauge('bazaar_sagas_stuck', 'orders', flat(0))],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarHighPaymentDeclineRate',
    severity: 'ticket',
    summary: 'More than 30 % of card authorizations are declined.',
    windowSeconds: minutes(5),
    forSeconds: minutes(2),
    condition: (window) =>
      above(
        ratio(
          sumRate(providerCalls({ outcome: 'declined' }), window, ['service']),
          sumRate(providerCalls(), window, ['service']),
        ),
        DECLINE_RATE_THRESHOLD,
      ),
    examples: [
      {
        title: 'four authorizations in ten are declined',
        atMinute: 10,
        series: [
          providerCall('authorize', 'authorized', ramp(60)),
          providerCall('authorize', 'declined', ramp(40)),
          providerCall('capture', 'ok', ramp(60)),
        ],
        firing: [{ service: 'payments' }],
      },
      {
        title: 'one authorization in ten is declined',
        atMinute: 10,
        series: [
          providerCall('authorize', 'authorized', ramp(54)),
          providerCall('authorize', 'declined', ramp(6)),
        ],
        firing: [],
      },
    ],
  }),

  alertRule({
    name: 'BazaarRegistryWithoutHeartbeats',
    severity: 'page',
    summary: 'The registry renews no lease: instances cannot reach it, and it will evict them all.',
    windowSeconds: minutes(2),
    forSeconds: minutes(1),
    condition: (window) =>
      equals(
        sumRate(selector('bazaar_registry_heartbeats_total', { outcome: 'renewed' }), window, ['service']),
        0,
      ),
    examples: [
      {
        title: 'heartbeats stopped five minutes ago',
        atMinute: 10,
        series: [
          heartbeats('renewed', [0, 30, 60, 90, 120, 150, 150, 150, 150, 150, 150]),
          heartbeats('unknown', flat(0)),
        ],
        firing: [{ service: 'registry' }],
      },
      {
        title: 'heartbeats arrive',
        atMinute: 10,
        series: [heartbeats('renewed', ramp(30)), heartbeats('unknown', flat(0))],
        firing: [],
      },
    ],
  }),
];

// ---- Example series -------------------------------------------------------------------------

function providerCalls(labels: Record<string, string> = {}) {
  return selector('bazaar_payment_provider_calls_total', { operation: 'authorize', ...labels });
}

/** A counter growing by `perMinute` every minute from 0, for `length` minutes. */
function ramp(perMinute: number, length = 10): number[] {
  return Array.from({ length: length + 1 }, (_, minute) => minute * perMinute);
}

/** The same value every minute. */
function flat(value: number, length = 10): number[] {
  return Array.from({ length: length + 1 }, () => value);
}

function served(service: string, status: string, values: number[], route = '/api/products'): ExampleSeries {
  return {
    metric: 'http_server_requests_total',
    labels: {
      service,
      instance: service === 'orders' ? '10.0.0.31:8080' : '10.0.0.11:8080',
      route,
      method: 'GET',
      status,
    },
    values,
  };
}

/** Latency buckets of a service whose requests fall, per minute, at most `perMinute[le]` under `le`. */
function latencies(service: string, perMinute: Record<string, number>): ExampleSeries[] {
  return Object.entries(perMinute).map(([le, n]) => ({
    metric: 'http_server_request_duration_seconds_bucket',
    labels: { service, instance: '10.0.0.11:8080', route: '/api/products', method: 'GET', status: '2xx', le },
    values: ramp(n),
  }));
}

function up(instance: string, values: number[]): ExampleSeries {
  return { metric: 'up', labels: { service: 'catalog', instance }, values };
}

function circuit(instance: string, caller: string, values: number[]): ExampleSeries {
  return {
    metric: 'bazaar_client_circuit_state',
    labels: { service: 'gateway', instance_id: caller, target: 'catalog', instance },
    values,
  };
}

function gauge(metric: string, service: string, values: number[], replica = 1): ExampleSeries {
  return { metric, labels: { service, instance_id: `${service}-${replica}` }, values };
}

function providerCall(operation: string, outcome: string, values: number[]): ExampleSeries {
  return {
    metric: 'bazaar_payment_provider_calls_total',
    labels: { service: 'payments', instance: '10.0.0.21:8080', operation, outcome },
    values,
  };
}

function heartbeats(outcome: string, values: number[]): ExampleSeries {
  return {
    metric: 'bazaar_registry_heartbeats_total',
    labels: { service: 'registry', instance: '10.0.0.2:8761', outcome },
    values,
  };
}
