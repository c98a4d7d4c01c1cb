import { Headers as H } from '@bazaar/contracts';
import { AppError, Deadline, type ServiceClient } from '@bazaar/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { matchRoute } from '../domain/route-match.ts';
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
  'connection',
  'keep-alive',
  'transfer-encoding',
  'x-request-id',
  'server',
  'x-powered-by',
]);

/**
 * `/api/*`: finds the route's service in the table and forwards the request through the kit client
 * (balancing, breakers, deadline, retries), streaming the answer back. Request bodies are buffered
 * (≤ 64 KiB) so that keyed and idempotent requests can be retried on another instance.
 */
export function proxyRoutes(
  scope: FastifyInstance,
  deps: { table: readonly GatewayRoute[]; client: (service: string) => ServiceClient },
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
    headers['x-forwarded-for'] = request.ip;
    headers['x-forwarded-proto'] = request.protocol;
    const key = request.headers[H.idempotencyKey];
    const result = await deps.client(route.service).request({
      method: request.method as 'GET',
      path: request.url,
      headers,
      body: request.body as Buffer | undefined,
      deadline,
      idempotencyKey: typeof key === 'string' ? key : undefined,
    });
    reply.code(result.status);
    for (const [name, value] of Object.entries(result.headers)) {
      if (value !== undefined && !DROP_RESPONSE.has(name)) reply.header(name, value);
    }
    return reply.send(result.body);
  };

  scope.all('/api/*', { schema: { hide: true } }, forward);
}
