import { Headers as H } from '@bazaar/contracts';
import { AppError, Deadline, type ServiceClient } from '@bazaar/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { matchRoute } from '../domain/route-match.ts';
import type { LoginAttempt, RateLimits } from '../rate-limit/rate-limits.ts';
import { DEFAULT_DEADLINE_MS, type GatewayRoute } from '../route-table.ts';

/** Largest request body the gateway accepts (QUALITY: 64 KiB). */
export const BODY_LIMIT = 64 * 1024;

// Never taken from a client: hop-by-hop headers, and those only services may set.
const DROP_REQUEST = new Set([
  H.serviceToken,
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
]);
const DROP_RESPONSE = new Set([
  H.degraded,
  'connection',
  'keep-alive',
  'transfer-encoding',
  'x-request-id',
  'server',
  'x-powered-by',
]);

/**
 * `/api/*` and `/.well-known/*`: finds the route's service in the table and forwards the request
 * through the kit client (balancing, breakers, deadline, retries, the gateway's service token),
 * streaming the answer back; the user's `Authorization` goes along unchanged. Request bodies are
 * buffered (≤ 64 KiB) so that keyed and idempotent requests can be retried on another instance, and
 * so that a login's account is known: identity's 401 to it counts as a failed login.
 */
export function proxyRoutes(
  scope: FastifyInstance,
  deps: {
    table: readonly GatewayRoute[];
    client: (service: string) => ServiceClient;
    limits: RateLimits;
  },
): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (request, body, done) => {
    const type = request.headers['content-type'] ?? '';
    if (type.includes('json') && (body as Buffer).length > 0) {
      try {
        JSON.parse((body as Buffer).toString('utf8'));
      } catch {
        done(new AppError('MALFORMED_JSON', 'The request body is not valid JSON.'), undefined);
        return;
      }
    }
    done(null, body);
  });

  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0]!;
    const route = matchRoute(deps.table, path);
    if (!route) throw new AppError('ROUTE_NOT_FOUND', `There is no route ${request.method} ${path}.`);
    // A client may ask for a shorter deadline than the route's, never a longer one.
    const deadline = request.bazaar.deadline.min(Deadline.after(route.deadlineMs ?? DEFAULT_DEADLINE_MS));
    request.bazaar.deadline = deadline;
    request.bazaar.routeLabel = route.prefix;
    const headers: Record<string, string | string[] | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!DROP_REQUEST.has(name)) headers[name] = value;
    }
    headers['x-forwarded-for'] = request.clientAddress || request.ip;
    headers['x-forwarded-proto'] = request.protocol;
    const key = request.headers[H.idempotencyKey];
    const login: LoginAttempt | undefined =
      route.rateLimit === 'login' && request.method === 'POST'
        ? await deps.limits.beginLogin(loginEmail(request.body), request.clientAddress || request.ip)
        : undefined;
    let failed = false;
    let result: Awaited<ReturnType<ServiceClient['request']>>;
    try {
      result = await deps.client(route.service).request({
        method: request.method as 'GET',
        path: request.url,
        headers,
        body: request.body as Buffer | undefined,
        deadline,
        idempotencyKey: typeof key === 'string' ? key : undefined,
      });
      failed = result.status === 401;
    } finally {
      await login?.settle(failed);
    }
    reply.code(result.status);
    for (const [name, value] of Object.entries(result.headers)) {
      if (value !== undefined && !DROP_RESPONSE.has(name)) reply.header(name, value);
    }
    return reply.send(result.body);
  };

  scope.all('/api/*', { schema: { hide: true } }, forward);
  scope.all('/.well-known/*', { schema: { hide: true } }, forward);
}

/** The email of a login body, if it has one (the account whose failures are counted). */
function loginEmail(body: unknown): string | undefined {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    const email = (JSON.parse(body.toString('utf8')) as { email?: unknown } | null)?.email;
    return typeof email === 'string' && email.length <= 254 ? email : undefined;
  } catch {
    return undefined;
  }
}
