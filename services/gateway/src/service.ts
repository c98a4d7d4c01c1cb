import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LIMIT_SPEC_PATTERN } from '@bazaar/contracts';
import { alertRules, defineService, type ServiceContext } from '@bazaar/kit';
import cors from '@fastify/cors';
import { Redis } from 'ioredis';
import { type Static, Type } from 'typebox';
import { TrustedProxies } from './domain/client-address.ts';
import { parseLimit } from './domain/limit-spec.ts';
import { servicesOf } from './domain/route-match.ts';
import { AlertEvaluator } from './ops/alert-evaluator.ts';
import { ConfigCenter } from './ops/config-center.ts';
import { RegistryHeartbeats } from './ops/heartbeats.ts';
import { systemProcesses } from './ops/processes.ts';
import { TrafficCollector } from './ops/traffic-collector.ts';
import type { BucketStore } from './rate-limit/bucket-store.ts';
import { applyLiveLimits, liveLimits } from './rate-limit/live-limits.ts';
import { MemoryBucketStore } from './rate-limit/memory-store.ts';
import { RateLimits } from './rate-limit/rate-limits.ts';
import { RedisBucketStore } from './rate-limit/redis-store.ts';
import { ownRoutes, routeTable } from './route-table.ts';
import { accessControl } from './routes/access.ts';
import { docsRoutes } from './routes/docs.ts';
import { opsRoutes } from './routes/ops.ts';
import { opsAlertRoutes } from './routes/ops-alerts.ts';
import { opsConfigRoutes } from './routes/ops-config.ts';
import { CollectorSettings, opsTracesRoutes } from './routes/ops-traces.ts';
import { proxyRoutes } from './routes/proxy.ts';
import { webRoutes } from './routes/web.ts';
import { securityHeaders } from './security-headers.ts';
import { loadWebFiles, singlePage, type WebFiles } from './web/web-files.ts';

const limit = (fallback: string, description: string) =>
  Type.String({ pattern: LIMIT_SPEC_PATTERN, default: fallback, description });

/** The gateway's own settings (environment now; the config center later). */
const GatewayConfig = Type.Object({
  BAZAAR_CORS_ORIGINS: Type.Optional(Type.String()),
  BAZAAR_TRUSTED_PROXIES: Type.Optional(Type.String()),
  BAZAAR_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  BAZAAR_RATE_LIMIT_PER_IP: limit('1000/s,burst=2000', 'requests per client address'),
  BAZAAR_RATE_LIMIT_PER_USER: limit('100/s,burst=200', 'requests per signed-in user'),
  BAZAAR_LOGIN_FAILURES_PER_ACCOUNT: limit('5/15m', 'failed logins per account'),
  BAZAAR_LOGIN_FAILURES_PER_IP: limit('20/1m', 'failed logins per client address'),
  BAZAAR_WEB_DIR: Type.Optional(
    Type.String({ minLength: 1, description: 'the built web app (default: web/dist of this repository)' }),
  ),
  BAZAAR_EMBEDDED: Type.Boolean({
    default: false,
    description: 'started by `bazaar up`: the ops console may kill instances',
  }),
  BAZAAR_OPS_SCRAPE_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 5_000,
    description: "how often the ops console's traffic series scrape every instance's /metrics",
  }),
  BAZAAR_ALERT_TIME_SCALE: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    default: 1,
    description:
      "multiplies every alert rule's window and `for` in the embedded evaluator (tests shrink them)",
  }),
  ...CollectorSettings,
});
type GatewayConfig = Static<typeof GatewayConfig>;

const routed = servicesOf(routeTable);
const landing = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/**
 * The gateway: the one door of the system. Routes `/api/*` by its route table to the services,
 * through the kit client, after verifying tokens, the route's auth need and rate limits; sets
 * deadlines, security headers, CORS and access logs; merges the services' OpenAPI documents; serves
 * the web app; shows operators the services, circuits and traffic it sees.
 */
export default defineService<GatewayConfig>({
  name: 'gateway',
  dependencies: routed,
  auth: { serviceCallers: false },
  config: GatewayConfig,
  // The config center's `rateLimits` replace the environment's once a version is set.
  liveConfig: (values, ctx) => applyLiveLimits(ctx, values),
  routes: async (app, ctx) => {
    const config = ctx.config;
    securityHeaders(app, { tls: Boolean(config.BAZAAR_TLS_CERT && config.BAZAAR_TLS_KEY) });
    const origins = (config.BAZAAR_CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    await app.register(cors, {
      origin: origins.length > 0 ? origins : false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id', 'traceparent'],
      exposedHeaders: ['x-request-id', 'retry-after', 'location', 'www-authenticate'],
      maxAge: 600,
    });
    const store = bucketStore(config, ctx.log);
    app.addHook('onClose', () => store.close());
    const limits = liveLimits(
      ctx,
      new RateLimits(store, {
        perAddress: parseLimit(config.BAZAAR_RATE_LIMIT_PER_IP),
        perUser: parseLimit(config.BAZAAR_RATE_LIMIT_PER_USER),
        loginFailuresPerAccount: parseLimit(config.BAZAAR_LOGIN_FAILURES_PER_ACCOUNT),
        loginFailuresPerAddress: parseLimit(config.BAZAAR_LOGIN_FAILURES_PER_IP),
      }),
    );
    accessControl(app, {
      policies: [...routeTable, ...ownRoutes],
      limits,
      trustedProxies: new TrustedProxies(config.BAZAAR_TRUSTED_PROXIES),
    });
    // Access logs are info lines, written while the level (which the config center may change) allows.
    app.addHook('onResponse', (request, reply, done) => {
      if (ctx.log.isLevelEnabled('info')) {
        request.log.info(
          {
            reqId: request.id,
            traceId: request.bazaar?.trace.traceId,
            spanId: request.bazaar?.trace.spanId,
            method: request.method,
            path: request.url.split('?', 1)[0],
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime * 10) / 10,
            ip: request.clientAddress || request.ip,
          },
          'access',
        );
      }
      done();
    });
    const client = (service: string) => ctx.client(service);
    const alerts = new AlertEvaluator({
      rules: alertRules,
      timeScale: config.BAZAAR_ALERT_TIME_SCALE,
      intervalMs: config.BAZAAR_OPS_SCRAPE_MS,
      registryUrls: config.BAZAAR_REGISTRY_URL.split(',').map((u) => u.trim()),
      log: ctx.log,
    });
    const traffic = new TrafficCollector({
      registry: ctx.registry,
      intervalMs: config.BAZAAR_OPS_SCRAPE_MS,
      log: ctx.log,
      clock: ctx.clock,
      onRound: (round) => alerts.observe(round),
    });
    traffic.start();
    app.addHook('onClose', async () => traffic.stop());
    const heartbeats = new RegistryHeartbeats({ urls: config.BAZAAR_REGISTRY_URL.split(',') });
    heartbeats.start();
    app.addHook('onClose', async () => heartbeats.stop());
    await opsTracesRoutes(app, { token: config.BAZAAR_COLLECTOR_TOKEN, ctx });
    opsAlertRoutes(app, { alerts });
    opsRoutes(app, {
      heartbeats,
      registry: ctx.registry,
      routed,
      client,
      embedded: config.BAZAAR_EMBEDDED,
      traffic,
      processes: systemProcesses,
    });
    opsConfigRoutes(app, {
      center: new ConfigCenter({
        urls: config.BAZAAR_REGISTRY_URL.split(','),
        credential: config.BAZAAR_SERVICE_CREDENTIAL,
        log: ctx.log,
      }),
      identity: () => ctx.client('identity'),
    });
    await docsRoutes(app, { services: routed, client });
    webRoutes(app, await webApp(config.BAZAAR_WEB_DIR ?? DEFAULT_WEB_DIR, ctx.log));
    await app.register(async (scope) => proxyRoutes(scope, { table: routeTable, client, limits }));
  },
});

/** The built web app in `dir`, or the landing page (with a warning) while it is not built. */
async function webApp(dir: string, log: ServiceContext['log']): Promise<WebFiles> {
  const built = await loadWebFiles(dir);
  if (built) return built;
  log.warn(
    { dir },
    'the web app is not built: serving the landing page at /; build it with `npm run build:web`',
  );
  return singlePage(landing);
}

/** Buckets in this process, or shared through Redis when `BAZAAR_REDIS_URL` is set. */
function bucketStore(config: GatewayConfig, log: ServiceContext['log']): BucketStore {
  const local = new MemoryBucketStore();
  if (!config.BAZAAR_REDIS_URL) return local;
  const redis = new Redis(config.BAZAAR_REDIS_URL, {
    // A slow or absent Redis must not hold requests: fail fast and decide in this process.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 250,
    connectTimeout: 2_000,
  });
  redis.on('error', () => undefined);
  return new RedisBucketStore({ redis, fallback: local, log });
}
