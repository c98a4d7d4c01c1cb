import { type Static, type TObject, Type } from 'typebox';
import { ProviderSettings } from './shop.ts';

/**
 * The config center's schemas: what each service accepts as its live configuration. The registry
 * validates a change against its service's schema before storing it; instances validate again
 * before applying (an instance on an older schema keeps its values and reports why).
 * Every schema is closed (`additionalProperties: false`) and every field has a default, so
 * `{}` is a valid configuration and means "the defaults".
 */

const closed = { additionalProperties: false } as const;

/** Log levels an instance can be switched to at run time. */
export const LogLevel = Type.Union(
  [
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
    Type.Literal('silent'),
  ],
  { default: 'info' },
);

/** The kit client's resilience thresholds (QUALITY.md's defaults), applied to every target. */
export const ResilienceConfig = Type.Object(
  {
    /** The circuit opens at this share of failures over the sampling window… */
    breakerFailureRatio: Type.Number({ minimum: 0.01, maximum: 1, default: 0.5 }),
    /** …once at least this many calls were made in it. */
    breakerMinimumCalls: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
    /** The sampling window of the breaker. */
    breakerWindowMs: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 10_000 }),
    /** An open circuit lets a probe through after this long. */
    breakerHalfOpenAfterMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
    /** Attempts per call at most (1 = no retries). */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 5, default: 3 }),
    /** Retries allowed as a share of requests. */
    retryBudgetRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
  },
  { ...closed, default: {} },
);
export type ResilienceConfig = Static<typeof ResilienceConfig>;

/**
 * Which new traces an instance samples (the kit's defaults; the environment's `OTEL_TRACES_SAMPLER*`
 * and `BAZAAR_TRACES_PER_SECOND` hold until a version is set). Raise them during an incident, lower
 * them again after. Error spans are kept whatever these say; an instance without a trace
 * endpoint records nothing either way.
 */
export const TracingConfig = Type.Object(
  {
    /** Off: no span is recorded at all, not even an error's, until it is turned on again. */
    enabled: Type.Boolean({ default: true }),
    /** Share of new traces sampled, decided from the trace id. */
    sampleRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.01 }),
    /** New traces a second, per instance, sampled beyond the share. */
    samplesPerSecond: Type.Integer({ minimum: 0, maximum: 100_000, default: 10 }),
  },
  { ...closed, default: {} },
);
export type TracingConfig = Static<typeof TracingConfig>;

/** Which per-request metrics an instance keeps (`BAZAAR_REQUEST_METRICS` holds until a version is set). */
export const MetricsConfig = Type.Object(
  {
    /** Off: requests served and calls made are neither counted nor timed (their series stop moving). */
    requests: Type.Boolean({ default: true }),
  },
  { ...closed, default: {} },
);
export type MetricsConfig = Static<typeof MetricsConfig>;

/** What every service accepts. */
const common = {
  logLevel: LogLevel,
  resilience: ResilienceConfig,
  tracing: TracingConfig,
  metrics: MetricsConfig,
};

/** The gateway's limit syntax: `100/s`, `5/15m`, `1000/s,burst=2000`, or `off`. */
export const LIMIT_SPEC_PATTERN = '^(off|\\d+(\\.\\d+)?/\\d*(ms|s|m|h)(,burst=\\d+)?)$';
const LimitSpec = (fallback: string) => Type.String({ pattern: LIMIT_SPEC_PATTERN, default: fallback });

export const GatewayRateLimits = Type.Object(
  {
    perAddress: LimitSpec('1000/s,burst=2000'),
    perUser: LimitSpec('100/s,burst=200'),
    loginFailuresPerAccount: LimitSpec('5/15m'),
    loginFailuresPerAddress: LimitSpec('20/1m'),
  },
  { ...closed, default: {} },
);
export type GatewayRateLimits = Static<typeof GatewayRateLimits>;

export const GatewayLiveConfig = Type.Object({ ...common, rateLimits: GatewayRateLimits }, closed);
export const PaymentsLiveConfig = Type.Object(
  {
    ...common,
    /** The simulated card provider's failure injection (CONTRACT, "Checkout"). */
    simulator: Type.Object(
      {
        declineRate: Type.Number({ ...ProviderSettings.properties.declineRate, default: 0 }),
        errorRate: Type.Number({ ...ProviderSettings.properties.errorRate, default: 0 }),
        latencyMs: Type.Integer({ ...ProviderSettings.properties.latencyMs, default: 0 }),
      },
      { ...closed, default: {} },
    ),
  },
  closed,
);
export const OrdersLiveConfig = Type.Object(
  {
    ...common,
    features: Type.Object(
      {
        /** Off: new checkouts are refused with 503 (maintenance); orders under way go on. */
        checkout: Type.Boolean({ default: true }),
        /** Refuse checkout early (503 + Retry-After) while every payments circuit is open. */
        failFastWhenPaymentsDown: Type.Boolean({ default: true }),
      },
      { ...closed, default: {} },
    ),
  },
  closed,
);
const CommonLiveConfig = Type.Object(common, closed);

/** The live-config schema of every service the config center knows. */
export const LiveConfigSchemas: Record<string, TObject> = {
  gateway: GatewayLiveConfig,
  identity: CommonLiveConfig,
  catalog: CommonLiveConfig,
  inventory: CommonLiveConfig,
  cart: CommonLiveConfig,
  orders: OrdersLiveConfig,
  payments: PaymentsLiveConfig,
};

// ---- The config center's API ----------------------------------------------------------------

/**
 * A service's current configuration. Version 0 means nothing was ever set: the values are the
 * schema's defaults and instances keep their environment settings.
 */
export const ConfigDocument = Type.Object({
  service: Type.String(),
  version: Type.Integer({ minimum: 0 }),
  values: Type.Record(Type.String(), Type.Unknown()),
});
export type ConfigDocument = Static<typeof ConfigDocument>;

/** `PUT /api/ops/config/:service`: the values replace the old ones whole. */
export const ConfigChange = Type.Object(
  {
    values: Type.Record(Type.String(), Type.Unknown()),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    expectedVersion: Type.Integer({ minimum: 0 }),
  },
  closed,
);
export type ConfigChange = Static<typeof ConfigChange>;

/** `POST /api/ops/config/:service/rollback`: a new version equal to `version`. */
export const ConfigRollback = Type.Object(
  { version: Type.Integer({ minimum: 1 }), reason: Type.String({ minLength: 1, maxLength: 500 }) },
  closed,
);
export type ConfigRollback = Static<typeof ConfigRollback>;

/** One stored version; `author` is the admin's email (or the service credential's name). */
export const ConfigVersion = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  values: Type.Record(Type.String(), Type.Unknown()),
  author: Type.String(),
  reason: Type.String(),
  at: Type.String({ format: 'date-time' }),
});
export type ConfigVersion = Static<typeof ConfigVersion>;

/** `GET /api/ops/config/:service/history`: newest first. */
export const ConfigHistory = Type.Object({
  items: Type.Array(ConfigVersion),
  /** Always null: the whole history is one page. */
  nextCursor: Type.Null(),
});
export type ConfigHistory = Static<typeof ConfigHistory>;

/** What an instance reports of its live config (in its heartbeats): applied version and last refusal. */
export const AppliedConfig = Type.Object({
  version: Type.Integer({ minimum: 0 }),
  /** Why the newest pushed version was not applied (the instance kept `version`), if it was not. */
  error: Type.Union([Type.String(), Type.Null()]),
});
export type AppliedConfig = Static<typeof AppliedConfig>;
