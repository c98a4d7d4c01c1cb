import { createHash, timingSafeEqual } from 'node:crypto';
import { gunzip } from 'node:zlib';
import { OpsTrace, OpsTraceList, OpsTraceQuery, type OpsTraceSummary, Problem } from '@bazaar/contracts';
import { AppError, requireRole, type ServiceContext, startTracing, tracingActive } from '@bazaar/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { decodeOtlpTraces, OtlpFormatError } from '../telemetry/otlp-json.ts';
import { DEFAULT_LIMIT, InvalidTraceCursor, TraceStore, traceCursor } from '../telemetry/trace-store.ts';

/** Where the services' exporters post their spans (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
export const TRACE_INTAKE_PATH = '/internal/otlp/v1/traces';
/** An export batch is far larger than a request to the API: its own limit. */
const INTAKE_BODY_LIMIT = 4 * 1024 * 1024;
const INFLATED_LIMIT = 32 * 1024 * 1024;

/** The gateway settings of the embedded trace collector (spread into its config schema). */
export const CollectorSettings = {
  BAZAAR_COLLECTOR_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'bearer token of the embedded trace collector’s OTLP intake (`bazaar up` makes one per start); ' +
        'without it the intake answers 404',
    }),
  ),
};

const TAGS = ['ops'];
const errors = { 401: Problem, 403: Problem };

/**
 * The embedded trace collector: an OTLP/HTTP JSON intake for the services' spans (bearer token;
 * 404 without one), the gateway's own spans kept in process (no encoding, no request), and the ops
 * console's search over the traces kept in memory (admins, by the route table). Registered before
 * the other ops routes: the console's own polling of `/api/ops/*` is not traced, or it would crowd
 * the traces it is there to show.
 */
export async function opsTracesRoutes(
  scope: FastifyInstance,
  deps: {
    token: string | undefined;
    ctx: Pick<ServiceContext, 'name' | 'instanceId' | 'log'>;
    store?: TraceStore;
    /** Tracing settings (`BAZAAR_TRACING`, `OTEL_TRACES_SAMPLER_ARG`…); default `process.env`. */
    env?: NodeJS.ProcessEnv;
  },
): Promise<void> {
  const store = deps.store ?? new TraceStore();
  // A gateway told to export elsewhere (its own OTLP endpoint) already records, and keeps doing so.
  if (deps.token && !tracingActive()) {
    const own = startTracing({
      service: deps.ctx.name,
      instanceId: deps.ctx.instanceId,
      env: deps.env ?? process.env,
      log: deps.ctx.log,
      sink: (spans) => store.add(spans),
    });
    if (own) scope.addHook('onClose', () => own.shutdown());
  }
  scope.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/ops/')) route.config = { ...route.config, tracing: false };
  });

  scope.get(
    '/api/ops/traces',
    {
      schema: {
        tags: TAGS,
        operationId: 'listOpsTraces',
        summary: 'Recent traces kept by the embedded collector',
        description:
          'Newest first (`sort=recent`) or slowest first (`sort=slowest`). `traceId` matches a prefix, ' +
          '`service` any span of that service, `route` any span’s `http.route`; `status=error` keeps ' +
          'traces with a failed span. Only the last 2000 traces (50 000 spans) are kept.',
        querystring: OpsTraceQuery,
        response: { 200: OpsTraceList, 400: Problem, ...errors },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      const query = request.query as OpsTraceQuery;
      const limit = query.limit ?? DEFAULT_LIMIT;
      let found: OpsTraceSummary[];
      try {
        found = store.search({ ...query, limit: limit + 1 });
      } catch (err) {
        if (err instanceof InvalidTraceCursor)
          throw new AppError('VALIDATION_FAILED', 'The request has invalid fields.', {
            errors: [{ path: 'querystring/cursor', message: 'not a cursor this list gave' }],
          });
        throw err;
      }
      const items = found.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: found.length > limit && last ? traceCursor(last, query.sort) : null };
    },
  );

  scope.get(
    '/api/ops/traces/:traceId',
    {
      schema: {
        tags: TAGS,
        operationId: 'getOpsTrace',
        summary: 'Every span kept of one trace, by start time (a waterfall)',
        params: Type.Object({ traceId: Type.String({ pattern: '^[0-9a-f]{32}$' }) }),
        response: { 200: OpsTrace, 400: Problem, 404: Problem, ...errors },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      const { traceId } = request.params as { traceId: string };
      const trace = store.trace(traceId);
      if (!trace) throw new AppError('NOT_FOUND', `No trace ${traceId} is kept by the collector.`);
      return trace;
    },
  );

  await scope.register(async (intake) => traceIntake(intake, store, deps.token));
}

/**
 * `POST /internal/otlp/v1/traces`: OTLP/HTTP JSON export requests, gzipped or not. Without a
 * token it answers 404 (as a route, so that the bearer sent is not judged as a user's token).
 */
function traceIntake(scope: FastifyInstance, store: TraceStore, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(token);
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: INTAKE_BODY_LIMIT },
    (request, body, done) => {
      inflate(request, body as Buffer).then(
        (json) => {
          try {
            done(null, JSON.parse(json.toString('utf8')));
          } catch {
            done(new AppError('MALFORMED_JSON', 'The export request is not valid JSON.'), undefined);
          }
        },
        (err: Error) => done(err, undefined),
      );
    },
  );
  scope.addContentTypeParser('application/x-protobuf', (_request, _payload, done) =>
    done(
      new AppError('UNSUPPORTED_MEDIA_TYPE', 'This collector reads OTLP/HTTP JSON only (application/json).'),
      undefined,
    ),
  );

  scope.post(
    TRACE_INTAKE_PATH,
    {
      bodyLimit: INTAKE_BODY_LIMIT,
      // Exporters post every second: their requests are no access-log lines, nor traces themselves.
      logLevel: 'warn',
      // The `Authorization` header holds the collector's token, not a user's access token.
      config: { tracing: false, serviceCredential: true },
      schema: { hide: true },
      onRequest: async (request) => {
        if (!expected) {
          throw new AppError(
            'ROUTE_NOT_FOUND',
            'No trace collector runs here (BAZAAR_COLLECTOR_TOKEN is not set).',
          );
        }
        const given = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !timingSafeEqual(digest(given), expected)) {
          throw new AppError('UNAUTHORIZED', 'The collector token is missing or wrong.', {
            headers: { 'www-authenticate': 'Bearer' },
          });
        }
      },
    },
    async (request) => {
      let decoded: ReturnType<typeof decodeOtlpTraces>;
      try {
        decoded = decodeOtlpTraces(request.body);
      } catch (err) {
        if (err instanceof OtlpFormatError) throw new AppError('BAD_REQUEST', err.message);
        throw err;
      }
      store.add(decoded.spans);
      return decoded.rejected > 0
        ? {
            partialSuccess: {
              rejectedSpans: decoded.rejected,
              errorMessage: 'spans with malformed ids or times were dropped',
            },
          }
        : {};
    },
  );
}

/** Equal-length digests, so that comparing them takes the same time whatever was sent. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The body as sent, gunzipped when it says it is gzip (the exporters' optional compression). */
function inflate(request: FastifyRequest, body: Buffer): Promise<Buffer> {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return Promise.resolve(body);
  if (encoding !== 'gzip') {
    return Promise.reject(
      new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not read.`),
    );
  }
  return new Promise((resolve, reject) =>
    gunzip(body, { maxOutputLength: INFLATED_LIMIT }, (err, inflated) =>
      err ? reject(new AppError('BAD_REQUEST', 'The gzip body could not be read.')) : resolve(inflated),
    ),
  );
}
