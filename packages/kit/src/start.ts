import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  LiveConfigSchemas,
  type MetricsConfig,
  type ResilienceConfig,
  type TracingConfig,
} from '@bazaar/contracts';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { buildApp } from './app.ts';
import { authMetrics } from './auth/auth-metrics.ts';
import { createIdentityApi, type FailureLog, failureLog } from './auth/identity-api.ts';
import { ServiceTokens } from './auth/service-tokens.ts';
import { ServiceClient } from './client/service-client.ts';
import { ConfigError, type KitConfig, loadConfig } from './config.ts';
import { migrateService, readMigrations } from './db/migrate.ts';
import { createPool, observePool } from './db/pool.ts';
import type { ServiceContext, ServiceDefinition } from './definition.ts';
import { observeDeadLetters } from './events/dead-letters.ts';
import { observeOutboxLag } from './events/outbox-lag.ts';
import { type EventRuntime, startEventRuntime } from './events/runtime.ts';
import { LiveConfig, registryConfigFetch } from './live-config/live-config.ts';
import { createLogger } from './log.ts';
import { createMetrics, type KitMetrics } from './metrics.ts';
import { Registration } from './registry/registration.ts';
import { RegistryWatch } from './registry/watch.ts';
import { setSamplingPolicy, setTracingEnabled, startTracing } from './telemetry/tracer.ts';
import { sleep, systemClock } from './time.ts';

/** A running instance. */
export interface RunningService<Config> {
  url: string;
  port: number;
  instanceId: string;
  ctx: ServiceContext<Config>;
  /** Graceful stop: deregister, stop accepting, drain in-flight work within the bound, close pools. */
  stop(): Promise<void>;
}

/**
 * Starts a service: configuration, logs, database and migrations, registry watch and clients, the
 * app, registration and heartbeats; stops gracefully on SIGTERM/SIGINT or when its supervisor goes.
 */
export async function startService<Config>(
  definition: ServiceDefinition<Config>,
  options: { env?: NodeJS.ProcessEnv; handleSignals?: boolean } = {},
): Promise<RunningService<Config>> {
  const env = options.env ?? process.env;
  let config: ReturnType<typeof loadConfig<Config>>;
  try {
    config = loadConfig<Config>(definition.config, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${definition.name}: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  const instanceId = config.BAZAAR_INSTANCE_ID ?? `${definition.name}-${randomBytes(4).toString('hex')}`;
  const log = createLogger({ service: definition.name, instanceId, level: config.BAZAAR_LOG_LEVEL });
  const metrics = createMetrics(definition.name, { countRequests: config.BAZAAR_REQUEST_METRICS });
  const tracing = startTracing({
    service: definition.name,
    instanceId,
    version: definition.version,
    env,
    log,
  });
  const registryUrls = config.BAZAAR_REGISTRY_URL.split(',').map((u) => u.trim().replace(/\/$/, ''));

  let db: pg.Pool | undefined;
  if (definition.migrations) {
    if (!config.BAZAAR_DATABASE_URL) {
      console.error(
        `${definition.name}: BAZAAR_DATABASE_URL is required (this service keeps its own database)`,
      );
      process.exit(78);
    }
    db = createPool({
      url: config.BAZAAR_DATABASE_URL,
      max: config.BAZAAR_DB_POOL_MAX,
      application: instanceId,
      log,
      prepare: config.BAZAAR_DB_PREPARED_STATEMENTS,
    });
    observePool(db, metrics.registry, 'main');
  }

  const dispatcher = new Agent({
    connections: 256,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 1_000 },
  });
  const watch = new RegistryWatch({ urls: registryUrls, log });
  const clients = new Map<string, ServiceClient>();
  let resilience: ResilienceConfig | undefined;
  const tokens = serviceTokens(definition.name, config, log, metrics, () => client('identity'));
  const client = (service: string): ServiceClient => {
    let c = clients.get(service);
    if (!c) {
      c = new ServiceClient({
        target: service,
        source: watch,
        dispatcher,
        metrics,
        log,
        balancer: config.BAZAAR_BALANCER,
        defaultDeadlineMs: config.BAZAAR_DEFAULT_DEADLINE_MS,
        serviceToken: tokens && needsServiceToken(service) ? () => tokens.current(service) : undefined,
        resilience,
      });
      clients.set(service, c);
    }
    return c;
  };
  watch.on('change', (service: string) => {
    if (service !== 'identity' || watch.instances('identity').length === 0) return;
    tokens?.retryFailed();
    auth?.keys.loadIfMissing();
  });
  watch.on('connected', () => metrics.registryConnected.set(1));
  watch.on('disconnected', () => metrics.registryConnected.set(0));

  // The config center's values for this service, pushed through the watch: the service's own parts
  // first (its hook may refuse them), then the kit's log level and every client's thresholds.
  const liveSchema = LiveConfigSchemas[definition.name];
  const credential = config.BAZAAR_SERVICE_CREDENTIAL;
  const liveConfig =
    definition.register !== false && liveSchema && credential
      ? new LiveConfig({
          schema: liveSchema,
          fetch: registryConfigFetch({ urls: registryUrls, service: definition.name, credential }),
          log,
          apply: async (values) => {
            await definition.liveConfig?.(values, ctx);
            log.level = values.logLevel as string;
            const sampling = values.tracing as TracingConfig;
            setTracingEnabled(sampling.enabled);
            setSamplingPolicy({ ratio: sampling.sampleRatio, perSecond: sampling.samplesPerSecond });
            metrics.countRequests = (values.metrics as MetricsConfig).requests;
            resilience = values.resilience as ResilienceConfig;
            for (const c of clients.values()) c.configure(resilience);
          },
        })
      : undefined;

  let registration: Registration | undefined;
  let draining = false;
  const { app, ctx, auth } = await buildApp(definition, {
    config,
    log,
    metrics,
    db,
    instanceId,
    clock: systemClock,
    client,
    registered: () =>
      definition.register === false ||
      definition.readyNeedsRegistration === false ||
      (registration?.registered ?? false),
    draining: () => draining,
    registry: watch,
    liveConfig,
  });

  if (db && definition.migrations) {
    const migrations = await readMigrations(definition.migrations);
    const seed = definition.seed;
    await migrateService(db, {
      service: definition.name,
      migrations,
      log,
      afterMigrate: seed ? (c) => seed(c, ctx) : undefined,
    });
  }
  let events: EventRuntime | undefined;
  if (db) {
    observeOutboxLag(db, metrics.registry);
    observeDeadLetters(db, metrics.registry);
    events = await startEventRuntime({
      service: definition.name,
      instanceId,
      pool: db,
      consumers: definition.consumers ?? [],
      ctx,
      config,
      log,
      metrics,
    });
  } else if (definition.consumers?.length) {
    log.warn('consumers need a database (declare migrations): they are not started');
  }
  const dependencies = definition.dependencies ?? [];
  if (liveConfig) {
    watch.on('config', (pushed: { service: string }) => {
      if (pushed.service === definition.name) void liveConfig.refresh();
    });
    // A new watch stream may follow missed pushes: read the current version again.
    watch.on('connected', () => void liveConfig.refresh());
  }
  if (dependencies.length > 0 || auth || liveConfig) await watch.start();
  await liveConfig?.refresh();
  tokens?.prepare(dependencies.filter(needsServiceToken));
  auth?.start();

  await app.listen({ host: config.BAZAAR_HOST, port: config.BAZAAR_PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.BAZAAR_PORT;
  const advertisedHost =
    config.BAZAAR_ADVERTISE_HOST ??
    (config.BAZAAR_HOST === '0.0.0.0' || config.BAZAAR_HOST === '::' ? hostname() : config.BAZAAR_HOST);
  const advertisedPort = config.BAZAAR_ADVERTISE_PORT ?? port;
  const scheme = config.BAZAAR_TLS_CERT ? 'https' : 'http';
  const url = `${scheme}://${config.BAZAAR_HOST === '0.0.0.0' ? '127.0.0.1' : config.BAZAAR_HOST}:${port}`;
  await definition.onStart?.(ctx);

  if (definition.register !== false) {
    registration = new Registration({
      urls: registryUrls,
      credential: config.BAZAAR_SERVICE_CREDENTIAL,
      id: instanceId,
      instance: {
        service: definition.name,
        host: advertisedHost,
        port: advertisedPort,
        version: definition.version ?? '0.1.0',
        metadata: { pid: String(process.pid), slot: env.BAZAAR_SLOT ?? '' },
      },
      log,
      report: liveConfig && (() => liveConfig.applied()),
    });
    await registration.start();
  }
  log.info({ url, instanceId }, `${definition.name} started`);
  process.send?.({ type: 'bazaar:ready', instanceId, port, url });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      log.info(
        registration
          ? 'stopping: deregistering, then draining in-flight requests'
          : 'stopping: draining in-flight requests',
      );
      await registration?.stop().catch(() => undefined);
      // Give callers a moment to hear of the deregistration before the listener closes.
      if (registration) await sleep(Math.min(500, config.BAZAAR_SHUTDOWN_TIMEOUT_MS));
      const bound = new AbortController();
      const bounded = await Promise.race([
        app.close().then(() => true),
        sleep(config.BAZAAR_SHUTDOWN_TIMEOUT_MS, bound.signal).then(
          () => false,
          () => true,
        ),
      ]);
      bound.abort();
      if (!bounded) {
        log.warn('drain bound reached: closing remaining connections');
        app.server.closeAllConnections();
      }
      // Events in hand finish and the relay's last pass ends while the pool is still open.
      await events?.stop().catch((err: Error) => log.warn({ err: err.message }, 'event runtime stop failed'));
      await definition.onStop?.(ctx);
      tokens?.stop();
      auth?.stop();
      liveConfig?.stop();
      watch.stop();
      await dispatcher.close().catch(() => undefined);
      await db?.end().catch(() => undefined);
      // Last: the spans of the drain and of the final relay pass go too.
      await tracing?.shutdown();
      log.info('stopped');
    })();
    return stopping;
  };

  if (options.handleSignals !== false) {
    const exit = () => void stop().finally(() => process.exit(0));
    process.once('SIGTERM', exit);
    process.once('SIGINT', exit);
    // Started by `bazaar up`: when the supervisor goes away, so do we, and nothing is left behind.
    if (process.send) process.once('disconnect', exit);
  }
  return { url, port, instanceId, ctx, stop };
}

/** Identity signs its own tokens and the registry takes credentials: neither is sent a service token. */
function needsServiceToken(service: string): boolean {
  return service !== 'identity' && service !== 'registry';
}

/**
 * The service tokens this instance sends to the services it calls, exchanged at identity for its
 * credential; none for identity itself (it would be asking itself) or without a credential.
 */
function serviceTokens(
  name: string,
  config: KitConfig,
  log: Logger,
  metrics: KitMetrics,
  identity: () => ServiceClient,
): ServiceTokens | undefined {
  if (name === 'identity' || name === 'registry' || !config.BAZAAR_SERVICE_CREDENTIAL) return undefined;
  const api = createIdentityApi({
    client: identity,
    url: config.BAZAAR_IDENTITY_URL,
    credential: config.BAZAAR_SERVICE_CREDENTIAL,
    clock: systemClock,
  });
  const counter = authMetrics(metrics.registry).serviceTokenExchanges;
  const failing = new Map<string, FailureLog>();
  const logOf = (audience: string) => {
    let f = failing.get(audience);
    if (!f) {
      f = failureLog(log, 'could not get a service token; calls go without', 'service token obtained');
      failing.set(audience, f);
    }
    return f;
  };
  return new ServiceTokens({
    exchange: (audience) => api.exchange(audience),
    clock: systemClock,
    onExchange: ({ audience, outcome, error }) => {
      counter.inc({ audience, outcome });
      if (outcome === 'error') logOf(audience).failed(error, { audience });
      else logOf(audience).succeeded({ audience });
    },
  });
}
