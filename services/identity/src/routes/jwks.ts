import { Jwks } from '@bazaar/contracts';
import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../tokens/key-ring.ts';

/**
 * The public signing keys, for every verifier (cached by them up to one JWKS refresh period,
 * `maxAgeSeconds`: 60 s by default).
 */
export function jwksRoutes(app: FastifyInstance, deps: { keys: KeyRing; maxAgeSeconds?: number }): void {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['identity'],
        operationId: 'jwks',
        summary: 'Public keys that verify Bazaar tokens',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => {
      const keys = await deps.keys.jwks();
      return reply.header('cache-control', `public, max-age=${deps.maxAgeSeconds ?? 60}`).send({ keys });
    },
  );
}
