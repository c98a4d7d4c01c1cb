import { type Static, Type } from 'typebox';
import { AppliedConfig } from './config.ts';
import { InstanceId, InstanceStatus, ServiceName } from './registry.ts';

/**
 * One instance in the ops console: what the registry says of it, with the gateway's own view of
 * it as a target (circuit `closed`/`open`/`half-open`, ejection, requests in flight, latency).
 * The gateway's view is empty (`circuit` null) for services it does not route to.
 */
export const OpsInstance = Type.Object({
  id: InstanceId,
  host: Type.String(),
  port: Type.Integer(),
  version: Type.String(),
  status: InstanceStatus,
  lastHeartbeatAt: Type.String({ format: 'date-time' }),
  circuit: Type.Union([Type.String(), Type.Null()]),
  ejected: Type.Boolean(),
  inflight: Type.Integer({ minimum: 0 }),
  latencyMs: Type.Union([Type.Number(), Type.Null()]),
  /** Whether the console may kill it: embedded mode, not down, not the gateway answering. */
  killable: Type.Boolean(),
  /** The live-config version it applied, and why it refused a newer one (null: none reported). */
  config: Type.Union([AppliedConfig, Type.Null()]),
});
export type OpsInstance = Static<typeof OpsInstance>;

/** A service and its instances in the ops console. */
export const OpsService = Type.Object({ name: ServiceName, instances: Type.Array(OpsInstance) });
export type OpsService = Static<typeof OpsService>;

/**
 * `GET /api/ops/services`, and each `services` event of `GET /api/ops/watch`. `registryConnected`
 * is false while the gateway serves its last known list; `killable` is true when instances can be
 * killed from the console (embedded mode).
 */
export const OpsServiceList = Type.Object({
  items: Type.Array(OpsService),
  nextCursor: Type.Null(),
  registryConnected: Type.Boolean(),
  killable: Type.Boolean(),
});
export type OpsServiceList = Static<typeof OpsServiceList>;

/**
 * A service's traffic over one scrape step, summed over its instances: requests per second, the
 * share (0–1) of them answered 5xx (0 without requests), and latency quantiles (null without requests).
 */
export const OpsPoint = Type.Object({
  at: Type.String({ format: 'date-time' }),
  requestRate: Type.Number({ minimum: 0 }),
  errorRate: Type.Number({ minimum: 0, maximum: 1 }),
  p50Ms: Type.Union([Type.Number(), Type.Null()]),
  p99Ms: Type.Union([Type.Number(), Type.Null()]),
});
export type OpsPoint = Static<typeof OpsPoint>;

/** One service's points, oldest first. */
export const OpsSeries = Type.Object({ service: Type.String(), points: Type.Array(OpsPoint) });
export type OpsSeries = Static<typeof OpsSeries>;

/** `GET /api/ops/metrics`: a series per service over the last `windowSeconds`, a point every `stepSeconds`. */
export const OpsMetrics = Type.Object({
  stepSeconds: Type.Number(),
  windowSeconds: Type.Integer(),
  items: Type.Array(OpsSeries),
});
export type OpsMetrics = Static<typeof OpsMetrics>;

// ---- Alerts ---------------------------------------------------------------------------------

/** `page`: act now; `ticket`: act today. */
export const AlertSeverity = Type.Union([Type.Literal('page'), Type.Literal('ticket')]);
export type AlertSeverity = Static<typeof AlertSeverity>;

/**
 * One active alert of the embedded evaluator: `pending` while its condition has held for less
 * than the rule's `for`, then `firing`. `labels` are the series' labels (e.g. `service`), `value`
 * the expression's value when last evaluated.
 */
export const OpsAlert = Type.Object({
  name: Type.String(),
  severity: AlertSeverity,
  state: Type.Union([Type.Literal('pending'), Type.Literal('firing')]),
  summary: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  value: Type.Number(),
  activeSince: Type.String({ format: 'date-time' }),
});
export type OpsAlert = Static<typeof OpsAlert>;

/** `GET /api/ops/alerts`: active alerts, firing first; `rules` counts the rules evaluated. */
export const OpsAlertList = Type.Object({
  items: Type.Array(OpsAlert),
  /** Always null: every active alert is on the one page (a few per rule at most). */
  nextCursor: Type.Null(),
  rules: Type.Integer({ minimum: 0 }),
  evaluatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type OpsAlertList = Static<typeof OpsAlertList>;

// ---- Traces ---------------------------------------------------------------------------------

/** One span as the embedded collector keeps it. Times are wall-clock ISO, durations in ms. */
export const OpsSpan = Type.Object({
  traceId: Type.String({ pattern: '^[0-9a-f]{32}$' }),
  spanId: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  parentSpanId: Type.Union([Type.String(), Type.Null()]),
  service: Type.String(),
  instance: Type.String(),
  name: Type.String(),
  // Spelt out: a union built with `.map()` is typed `never` (its literals widen to string).
  kind: Type.Union([
    Type.Literal('internal'),
    Type.Literal('server'),
    Type.Literal('client'),
    Type.Literal('producer'),
    Type.Literal('consumer'),
  ]),
  startTime: Type.String({ format: 'date-time' }),
  /** Milliseconds since the trace's first span started (for a waterfall). */
  offsetMs: Type.Number({ minimum: 0 }),
  durationMs: Type.Number({ minimum: 0 }),
  status: Type.Union([Type.Literal('unset'), Type.Literal('ok'), Type.Literal('error')]),
  attributes: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
});
export type OpsSpan = Static<typeof OpsSpan>;

/** A trace in a list: its root (or earliest) span's service and name, and what it spans. */
export const OpsTraceSummary = Type.Object({
  traceId: Type.String(),
  service: Type.String(),
  name: Type.String(),
  /** The root span's `http.route` when it is an HTTP request, else null. */
  route: Type.Union([Type.String(), Type.Null()]),
  /** The root span's HTTP status, when it is an HTTP request. */
  httpStatus: Type.Union([Type.Integer(), Type.Null()]),
  startTime: Type.String({ format: 'date-time' }),
  durationMs: Type.Number({ minimum: 0 }),
  spanCount: Type.Integer({ minimum: 1 }),
  services: Type.Array(Type.String()),
  error: Type.Boolean(),
});
export type OpsTraceSummary = Static<typeof OpsTraceSummary>;

/**
 * `GET /api/ops/traces?traceId=&service=&route=&status=ok|error&minDurationMs=&sort=recent|slowest&limit=`
 * &cursor=` (limit ≤ 100, default 20): recent traces kept by the embedded collector, newest or slowest first.
 */
export const OpsTraceQuery = Type.Object(
  {
    traceId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{1,32}$' })),
    service: Type.Optional(Type.String({ maxLength: 64 })),
    route: Type.Optional(Type.String({ maxLength: 256 })),
    status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('error')])),
    minDurationMs: Type.Optional(Type.Number({ minimum: 0 })),
    sort: Type.Optional(Type.Union([Type.Literal('recent'), Type.Literal('slowest')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type OpsTraceQuery = Static<typeof OpsTraceQuery>;

export const OpsTraceList = Type.Object({
  items: Type.Array(OpsTraceSummary),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type OpsTraceList = Static<typeof OpsTraceList>;

/** `GET /api/ops/traces/:traceId`: every span kept, ordered by start. */
export const OpsTrace = Type.Object({ traceId: Type.String(), spans: Type.Array(OpsSpan) });
export type OpsTrace = Static<typeof OpsTrace>;
