import { readFileSync } from 'node:fs';
import { defineService } from '@bazaar/kit';
import cors from '@fastify/cors';
import { Type } from 'typebox';
import { servicesOf } from './domain/route-match.ts';
import { routeTable } from './route-table.ts';
import { docsRoutes } from './routes/docs.ts';
import { opsRoutes } from './routes/ops.ts';
import { proxyRoutes } from './routes/proxy.ts';
import { securityHeaders } from './security-headers.ts';

interface GatewayConfig {
  BAZAAR_CORS_ORIGINS?: string;
}

const routed = servicesOf(routeTable);
const landing = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');

/**
 * The gateway: the one door of the system. Routes `/api/*` by its route table to the services,
 * through the kit client, with deadlines, security headers, CORS and access logs; merges the
 * services' OpenAPI documents; shows operators the services and circuits it sees.
 */
export default defineService<GatewayConfig>({
  name: 'gateway',
  dependencies: routed,
  config: Type.Object({ BAZAAR_CORS_ORIGINS: Type.Optional(Type.String()) }),
  routes: async (app, ctx) => {
    securityHeaders(app);
    const origins = (ctx.config.BAZAAR_CORS_ORIGINS ?? '')
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
    // Access logs are info lines: below that level the hook is not installed at all.
    if (ctx.log.isLevelEnabled('info'))
      app.addHook('onResponse', (request, reply, done) => {
        request.log.info(
          {
            reqId: request.id,
            traceId: request.bazaar?.trace.traceId,
            method: request.method,
            path: request.url.split('?', 1)[0],
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime * 10) / 10,
            ip: request.ip,
          },
          'access',
        );
        done();
      });
    const client = (service: string) => ctx.client(service);
    opsRoutes(app, { registry: ctx.registry, routed, client });
    await docsRoutes(app, { services: routed, client });
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html').send(landing),
    );
    await app.register(async (scope) => proxyRoutes(scope, { table: routeTable, client }));
  },
});
