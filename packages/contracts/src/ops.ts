import { type Static, Type } from 'typebox';
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
