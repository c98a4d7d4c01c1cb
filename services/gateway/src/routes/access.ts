import { requireRole, requireUser } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { clientAddress, type TrustedProxies } from '../domain/client-address.ts';
import { matchRoute } from '../domain/route-match.ts';
import type { RateLimits } from '../rate-limit/rate-limits.ts';
import type { AuthNeed } from '../route-table.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's address: the socket's peer, or what a trusted proxy says it is. */
    clientAddress: string;
  }
}

/**
 * The gateway's door: the client's address and its rate limit as a request arrives (before its
 * body is read or its token verified); then, once the kit has verified any token, the route's auth
 * need from the table (401/403 before anything is forwarded) and the user's rate limit.
 */
export function accessControl(
  scope: FastifyInstance,
  deps: {
    policies: readonly { prefix: string; auth: AuthNeed }[];
    limits: RateLimits;
    trustedProxies: TrustedProxies;
  },
): void {
  scope.decorateRequest('clientAddress', '');
  scope.addHook('onRequest', async (request) => {
    request.clientAddress = clientAddress(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
      deps.trustedProxies,
    );
    await deps.limits.address(request.clientAddress);
  });
  scope.addHook('preHandler', async (request) => {
    const need = matchRoute(deps.policies, request.url.split('?', 1)[0]!)?.auth ?? 'public';
    if (need === 'user') requireUser(request);
    else if (need === 'admin') requireRole(request, 'admin');
    if (request.user) await deps.limits.user(request.user.id);
  });
}
