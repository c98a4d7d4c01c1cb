import { type Static, type TObject, Type } from 'typebox';
import Value from 'typebox/value';

/** Settings every instance reads from the environment (README lists them). */
export const KitConfigSchema = Type.Object({
  BAZAAR_HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  BAZAAR_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  BAZAAR_ADVERTISE_HOST: Type.Optional(Type.String({ minLength: 1 })),
  BAZAAR_ADVERTISE_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  BAZAAR_REGISTRY_URL: Type.String({ default: 'http://127.0.0.1:8761', pattern: '^https?://' }),
  BAZAAR_SERVICE_CREDENTIAL: Type.Optional(Type.String({ minLength: 16 })),
  BAZAAR_DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  BAZAAR_DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  /**
   * Queries with parameters go as named prepared statements, parsed and planned once per
   * connection. Off behind a transaction-pooling PgBouncer older than 1.21.
   */
  BAZAAR_DB_PREPARED_STATEMENTS: Type.Boolean({ default: true }),
  BAZAAR_INSTANCE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' })),
  BAZAAR_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  BAZAAR_BALANCER: Type.Union([Type.Literal('p2c-ewma'), Type.Literal('round-robin')], {
    default: 'round-robin',
  }),
  BAZAAR_DEFAULT_DEADLINE_MS: Type.Integer({ minimum: 1, maximum: 300_000, default: 5_000 }),
  BAZAAR_SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 10_000 }),
  BAZAAR_CHAOS: Type.Boolean({ default: false }),
  BAZAAR_CURRENCY: Type.String({ pattern: '^[A-Z]{3}$', default: 'USD' }),
  /** Identity's address, used when the registry knows no identity instance (tests, bootstrapping). */
  BAZAAR_IDENTITY_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /**
   * Verifiers fetch identity's JWKS at least this often; identity publishes a new key two periods
   * and 30 s before it signs. Keep it the same on every service (60 s; short only in tests).
   */
  BAZAAR_JWKS_REFRESH_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 60_000 }),
  /** HTTPS: paths of a PEM certificate (chain) and its private key; both or neither. */
  BAZAAR_TLS_CERT: Type.Optional(Type.String({ minLength: 1 })),
  BAZAAR_TLS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** The pg-boss bus: a PostgreSQL database shared by the services (the embedded cluster's `bus`). */
  BAZAAR_BUS_DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  /** NATS server(s), comma-separated; when set, events travel on JetStream instead of pg-boss. */
  BAZAAR_NATS_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** The JetStream stream of the events; subjects are `<stream lower-case>.<event type>`. */
  BAZAAR_NATS_STREAM: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'BAZAAR' }),
  /** Deliveries of an event to a consumer before it goes to the dead-letter store. */
  BAZAAR_EVENT_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
  /** A delivery not acknowledged within this is delivered again (its consumer died mid-event). */
  BAZAAR_EVENT_ACK_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 30_000 }),
  /** How often the outbox relay looks for unsent events when no notification woke it (a backstop). */
  BAZAAR_OUTBOX_POLL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 5_000 }),
  /**
   * Off: requests served and calls made are not counted or timed (the telemetry benchmark's
   * baseline; in-flight, circuit and other gauges stay). Never off in production.
   */
  BAZAAR_REQUEST_METRICS: Type.Boolean({ default: true }),
});

/** The kit's validated settings. */
export type KitConfig = Static<typeof KitConfigSchema>;

/** A configuration value that failed validation; start-up stops with its message. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates `schema` (an object of settings) from `env`: strings are converted to the
 * declared types, defaults applied, and every bad value reported at once by name.
 */
export function readEnv<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Default(schema, Value.Convert(schema, raw));
  const problems = [...Value.Errors(schema, value)].map((e) => {
    const name = e.instancePath.replace(/^\//, '') || String(Object.values(e.params)[0] ?? '');
    const given = name in raw ? ` (got ${JSON.stringify(raw[name])})` : '';
    return `${name}: ${e.message}${given}`;
  });
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return value as Static<S>;
}

/** Reads the kit's settings together with a service's own schema. */
export function loadConfig<C>(
  serviceSchema: TObject | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KitConfig & C {
  const schema = serviceSchema
    ? Type.Object({ ...KitConfigSchema.properties, ...serviceSchema.properties })
    : KitConfigSchema;
  return readEnv(schema, env) as KitConfig & C;
}
