import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { Headers as H, PROBLEM_CONTENT_TYPE } from '@bazaar/contracts';
import { AjvCompiler } from '@fastify/ajv-compiler';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type pg from 'pg';
import pino, { type Logger } from 'pino';
import { Authenticator, type AuthSources } from './auth/authenticator.ts';
import { createIdentityApi } from './auth/identity-api.ts';
import { installRequestAuth } from './auth/request-auth.ts';
import { type ChaosState, chaosRoutes } from './chaos.ts';
import { Deadline } from './client/deadline.ts';
import type { ServiceClient } from './client/service-client.ts';
import { type KitConfig, loadConfig } from './config.ts';
import { type RequestContext, runWithContext } from './context.ts';
import { databaseReachable } from './db/pool.ts';
import { authEnabled, type RegistryView, type ServiceContext, type ServiceDefinition } from './definition.ts';
import { AppError, problem } from './errors.ts';
import { outboxWriter } from './events/api.ts';
import type { LiveConfigView } from './live-config/live-config.ts';
import { createMetrics, type KitMetrics, statusClass } from './metrics.ts';
import { installProblemHandlers, sendProblem } from './problem-handler.ts';
import { endServerSpan, requestTrace } from './telemetry/http-spans.ts';
import { type Clock, systemClock } from './time.ts';
import type { Tally } from './timed-series.ts';

declare module 'fastify' {
  interface FastifyRequest {
    bazaar: RequestContext;
  }
}

/** What `buildApp` needs besides the definition; everything has a default good for `inject()` tests. */
export interface AppDependencies<Config> {
  config?: KitConfig & Config;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  metrics?: KitMetrics;
  db?: pg.Pool;
  instanceId?: string;
  clock?: Clock;
  client?: (service: string) => ServiceClient;
  /** Whether this instance counts as registered (for `/health/ready`). */
  registered?: () => boolean;
  /** Set while shutting down: `/health/ready` answers 503. */
  draining?: () => boolean;
  chaos?: ChaosState;
  registry?: RegistryView;
  /** The instance's live config (default: version 0, no values). */
  liveConfig?: LiveConfigView;
}

/** The app and the context its routes were given. */
export interface BuiltApp<Config> {
  app: FastifyInstance;
  ctx: ServiceContext<Config>;
  chaos: ChaosState;
  /** Token verification, when the service has `auth` on (`startService` starts its refresh timers). */
  auth: Authenticator | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BODY_LIMIT = 64 * 1024;

/**
 * Builds the Fastify app of a service without listening: request context (ids, trace, deadline),
 * deadline enforcement, metrics, problem+json errors, health, OpenAPI and the service's routes.
 */
export async function buildApp<Config>(
  definition: ServiceDefinition<Config>,
  deps: AppDependencies<Config> = {},
): Promise<BuiltApp<Config>> {
  const config = deps.config ?? loadConfig<Config>(definition.config, deps.env);
  const instanceId = deps.instanceId ?? `${definition.name}-test`;
  const log = deps.log ?? pino({ level: 'silent' });
  const metrics =
    deps.metrics ?? createMetrics(definition.name, { countRequests: config.BAZAAR_REQUEST_METRICS });
  const clock = deps.clock ?? systemClock;
  const chaos: ChaosState = deps.chaos ?? { delayMs: 0, errorRate: 0 };
  const ctx: ServiceContext<Config> = {
    name: definition.name,
    instanceId,
    log,
    config,
    get db(): pg.Pool {
      if (!deps.db)
        throw new Error(`${definition.name} has no database: declare migrations in its definition`);
      return deps.db;
    },
    client: (service) => {
      if (!deps.client) throw new Error(`no client for ${service}: declare it in dependencies`);
      return deps.client(service);
    },
    metrics: metrics.registry,
    clock,
    registry: deps.registry ?? {
      services: () => [],
      connected: false,
      on: () => undefined,
      off: () => undefined,
    },
    events: outboxWriter(definition.name),
    liveConfig: deps.liveConfig ?? { version: 0, values: {} },
  };

  const auth = authEnabled(definition)
    ? new Authenticator({
        service: definition.name,
        sources: authSources(definition, ctx, deps),
        clock,
        metrics: metrics.registry,
        log,
        jwksRefreshMs: config.BAZAAR_JWKS_REFRESH_MS,
      })
    : undefined;
  const tls = readTls(config);

  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    genReqId: (req) => {
      const given = req.headers[H.requestId];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    serverFactory: (handler) => {
      const limits = {
        maxHeaderSize: 16 * 1024,
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 65_000,
      };
      const server = tls
        ? createHttpsServer({ ...limits, ...tls, minVersion: 'TLSv1.2' }, handler)
        : createServer(limits, handler);
      server.on('clientError', answerClientError);
      return server;
    },
    ajv: {
      customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false, useDefaults: true },
    },
    // Query strings, params and headers arrive as text and are coerced to their schema's types; a
    // JSON body is not: `"quantity": null` or `"2"` is refused, never read as 0 or 2.
    schemaController: { compilersFactory: { buildValidator: bodiesWithoutCoercion as never } },
  }) as unknown as FastifyInstance;
  app.decorateRequest('bazaar', null as unknown as RequestContext);
  app.decorateRequest('serverSpan', undefined);
  installProblemHandlers(app);
  installRequestAuth(app, {
    auth,
    skip: isOperational,
    serviceCallers: typeof definition.auth === 'object' ? definition.auth.serviceCallers : undefined,
  });
  if (auth) app.addHook('onClose', async () => auth.stop());

  app.addHook('onRequest', (request, reply, done) => {
    const authorization = request.headers.authorization;
    request.bazaar = {
      requestId: request.id,
      trace: requestTrace(request, isOperational(request)),
      deadline: Deadline.fromHeader(
        request.headers[H.deadline] as string | undefined,
        config.BAZAAR_DEFAULT_DEADLINE_MS,
        clock,
      ),
      authorization,
    };
    reply.header(H.requestId, request.id);
    metrics.httpInFlight.inc();
    if (chaos.delayMs > 0 && !isOperational(request)) {
      setTimeout(() => runWithContext(request.bazaar, done), chaos.delayMs);
      return;
    }
    runWithContext(request.bazaar, done);
  });

  app.addHook('preHandler', (request, reply, done) => {
    if (!isOperational(request)) {
      if (request.bazaar.deadline.expired()) {
        // The caller has given up: starting the work would only waste it.
        metrics.deadlineRejected.inc({ stage: 'before-handler' });
        sendProblem(
          request,
          reply,
          new AppError('DEADLINE_EXCEEDED', 'The deadline passed before work began.'),
        );
        return;
      }
      if (chaos.errorRate > 0 && Math.random() < chaos.errorRate) {
        sendProblem(
          request,
          reply,
          new AppError('INTERNAL', 'An injected fault (chaos) failed this request.'),
        );
        return;
      }
    }
    runWithContext(request.bazaar, done);
  });

  // One tally per route, method and status class, kept here so counting a request is a lookup.
  const requestTallies = new Map<string, Tally>();
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpInFlight.dec();
    const labels = {
      route: request.bazaar?.routeLabel ?? request.routeOptions.url ?? '(unmatched)',
      method: request.method,
      status: statusClass(reply.statusCode),
    };
    if (metrics.countRequests) {
      const key = `${labels.method} ${labels.status} ${labels.route}`;
      let tally = requestTallies.get(key);
      if (!tally) {
        tally = metrics.httpServer.tally(labels);
        requestTallies.set(key, tally);
      }
      tally.observe(reply.elapsedTime / 1000);
    }
    endServerSpan(request, reply.statusCode, labels.route);
    if (reply.statusCode >= 500) {
      request.log.warn(
        {
          reqId: request.id,
          traceId: request.bazaar?.trace.traceId,
          spanId: request.bazaar?.trace.spanId,
          status: reply.statusCode,
          route: labels.route,
        },
        'request failed',
      );
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: `Bazaar ${definition.name}`, version: definition.version ?? '0.1.0' },
    },
    refResolver: {
      // Shared schemas keep their own names (`Product`, `Problem`) in the document.
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform: ({ schema, url }) => {
      const hidden = !url.startsWith('/api/') && !url.startsWith('/.well-known/');
      return { schema: hidden ? { ...schema, hide: true } : schema, url } as never;
    },
  });

  const registered = deps.registered ?? (() => true);
  const draining = deps.draining ?? (() => false);
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, boolean> = { registered: registered(), draining: !draining() };
    if (deps.db) checks.database = await databaseReachable(deps.db);
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
  });
  // Prometheus reads the text format; the gateway's ops collector asks for JSON (easier to sum).
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (request.headers.accept?.includes('application/json')) {
      return reply.type('application/json').send(JSON.stringify(await metrics.registry.getMetricsAsJSON()));
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (config.BAZAAR_CHAOS) chaosRoutes(app, chaos, config.BAZAAR_SERVICE_CREDENTIAL);

  await app.register(async (scope) => definition.routes(scope, ctx));
  await app.ready();
  return { app, ctx, chaos, auth };
}

/** The shape of Fastify's validator factory, loosely: only what the wrapper below touches. */
type ValidatorFactory = (
  externalSchemas: unknown,
  options: { customOptions?: Record<string, unknown> },
) => (route: { httpPart?: string }) => unknown;

const ajvCompilers = AjvCompiler() as unknown as ValidatorFactory;

/** Fastify's validator compiler, with type coercion turned off for request bodies. */
const bodiesWithoutCoercion: ValidatorFactory = (externalSchemas, options) => {
  const coercing = ajvCompilers(externalSchemas, options);
  const strict = ajvCompilers(externalSchemas, {
    ...options,
    customOptions: { ...options.customOptions, coerceTypes: false },
  });
  return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
};

/** Where a service's verifier reads keys and revocations: its own settings, else identity. */
function authSources<Config>(
  definition: ServiceDefinition<Config>,
  ctx: ServiceContext<Config>,
  deps: AppDependencies<Config>,
): AuthSources {
  const custom = typeof definition.auth === 'object' ? definition.auth.sources : undefined;
  if (custom) return custom(ctx);
  const client = deps.client;
  const api = createIdentityApi({
    client: client ? () => client('identity') : undefined,
    url: ctx.config.BAZAAR_IDENTITY_URL,
    credential: ctx.config.BAZAAR_SERVICE_CREDENTIAL,
    clock: ctx.clock,
  });
  if (!ctx.config.BAZAAR_SERVICE_CREDENTIAL) {
    ctx.log.warn('no BAZAAR_SERVICE_CREDENTIAL: revocations cannot be read from identity');
    return { jwks: api.jwks };
  }
  return { jwks: api.jwks, revocations: api.revocations };
}

/** The certificate and key of `BAZAAR_TLS_CERT`/`BAZAAR_TLS_KEY`, when both are set. */
function readTls(config: KitConfig): { cert: Buffer; key: Buffer } | undefined {
  const { BAZAAR_TLS_CERT: cert, BAZAAR_TLS_KEY: key } = config;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('HTTPS needs both BAZAAR_TLS_CERT and BAZAAR_TLS_KEY');
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

const CLIENT_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    detail: 'The request headers exceed 16 KiB.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'BAD_REQUEST',
    detail: 'The request was not received in time.',
  },
};

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers too large, malformed
 * requests, header timeout) still get a problem+json answer when the socket can take one.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[err.code ?? ''] ?? {
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'The request is malformed.',
  };
  const body = JSON.stringify(problem(known.code, known.detail, { status: known.status }));
  socket.end(
    `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Health, metrics and chaos control are never delayed, failed or held to a deadline. */
function isOperational(request: FastifyRequest): boolean {
  const url = request.url;
  return url.startsWith('/health/') || url === '/metrics' || url.startsWith('/internal/chaos');
}
