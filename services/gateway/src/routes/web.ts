import { AppError } from '@bazaar/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebFile, WebFiles } from '../web/web-files.ts';

/**
 * Paths that are never the web app's pages: their unknown routes stay 404 problems (a missing
 * asset too, so that a page of an older build fails to load it plainly rather than as HTML).
 */
const NOT_THE_APP = ['/api/', '/.well-known/', '/health/', '/assets/'];

/**
 * The web app, from memory: `/` and its files by path (hashed assets cached for a year, the page
 * revalidated), and its `index.html` for any other GET that accepts HTML outside the API (the app
 * routes itself). Every other unknown path is a 404 problem, answered inside this scope so that it
 * too gets the gateway's headers and limits.
 */
export function webRoutes(scope: FastifyInstance, web: WebFiles): void {
  scope.get('/', { schema: { hide: true } }, async (request, reply) => serve(request, reply, web.index));
  scope.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    schema: { hide: true },
    handler: async (request, reply) => {
      const path = request.url.split('?', 1)[0]!;
      if (request.method === 'GET' || request.method === 'HEAD') {
        const file = web.files.get(path);
        if (file) return serve(request, reply, file);
        if (isAppPath(path) && acceptsHtml(request)) return serve(request, reply, web.index);
      }
      throw new AppError('ROUTE_NOT_FOUND', `There is no route ${request.method} ${path}.`);
    },
  });
}

function serve(request: FastifyRequest, reply: FastifyReply, file: WebFile): FastifyReply {
  // The type goes on a 304 too: browsers take a revalidated page's headers from it, so the page
  // must keep its content security policy (decided by type), not get the API's `default-src 'none'`.
  reply.type(file.type).header('etag', file.etag).header('cache-control', file.cacheControl);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}

function isAppPath(path: string): boolean {
  return path !== '/metrics' && !NOT_THE_APP.some((prefix) => path.startsWith(prefix));
}

function acceptsHtml(request: FastifyRequest): boolean {
  return request.headers.accept?.includes('text/html') ?? false;
}
