import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { ServiceClient } from '@bazaar/kit';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { mergeOpenApi, type OpenApiDocument } from '../domain/openapi-merge.ts';

const CACHE_MS = 10_000;
const require = createRequire(import.meta.url);
const swaggerUiDir = dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bazaar API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#docs', deepLinking: true });`;

/**
 * `/api/openapi.json`: the public API in one document, merged from every routed service's own
 * schemas (cached 10 s); `/api/docs`: a reading UI for it, served from our own assets.
 */
export async function docsRoutes(
  scope: FastifyInstance,
  deps: { services: readonly string[]; client: (service: string) => ServiceClient },
): Promise<void> {
  let cached: { at: number; document: OpenApiDocument } | undefined;
  scope.get(
    '/api/openapi.json',
    { schema: { tags: ['docs'], summary: 'The OpenAPI document' } },
    async () => {
      if (cached && Date.now() - cached.at < CACHE_MS) return cached.document;
      const parts = await Promise.all(
        deps.services.map(async (service) => {
          try {
            const document = await deps.client(service).json<OpenApiDocument>({ path: '/openapi.json' });
            return { service, document };
          } catch {
            return { service, document: undefined };
          }
        }),
      );
      const own = scope.swagger() as OpenApiDocument;
      const base: OpenApiDocument = {
        ...own,
        info: {
          title: 'Bazaar API',
          version: '0.1.0',
          description: 'The public API of Bazaar, through the gateway.',
        },
      };
      const document = mergeOpenApi(base, parts);
      if (!document['x-bazaar-unavailable']) cached = { at: Date.now(), document };
      return document;
    },
  );
  scope.get('/api/docs', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html').send(PAGE),
  );
  scope.get('/api/docs/init.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/javascript').send(INIT),
  );
  await scope.register(fastifyStatic, {
    root: swaggerUiDir,
    prefix: '/api/docs/assets/',
    decorateReply: false,
  });
}
