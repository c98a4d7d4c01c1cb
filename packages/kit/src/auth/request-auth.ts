import { Headers as H } from '@bazaar/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Authenticator } from './authenticator.ts';
import { type AuthUser, KeysUnavailable, type ServiceCaller, TokenRejected } from './principal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The end user, from a verified `Authorization: Bearer` access token; undefined when anonymous. */
    user: AuthUser | undefined;
    /** The calling service, from a verified `Bazaar-Service-Token` addressed to this service. */
    caller: ServiceCaller | undefined;
  }
  interface FastifyContextConfig {
    /**
     * The route authenticates its caller by a service credential in `Authorization` (identity's
     * `/internal/*` routes): the kit does not read that header as a user token there.
     */
    serviceCredential?: boolean;
  }
}

declare module '../context.ts' {
  interface RequestContext {
    /** The end user of the request being handled, when verified. */
    user?: AuthUser | undefined;
  }
}

/** `WWW-Authenticate` of an answer to a token that was sent and refused (RFC 6750 §3.1). */
export const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

/**
 * Decorates every request with `user` and `caller`, and — when `auth` is given — verifies the
 * tokens a request carries before validation and handlers: a bad one is a 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"`, none at all leaves the request anonymous.
 * `skip` names requests that are never judged (health, metrics, chaos control).
 */
export function installRequestAuth(
  app: FastifyInstance,
  options: {
    auth: Authenticator | undefined;
    skip: (request: FastifyRequest) => boolean;
    /** Whether `Bazaar-Service-Token` is read (false at the edge, where no service calls). */
    serviceCallers?: boolean;
  },
): void {
  app.decorateRequest('user', undefined);
  app.decorateRequest('caller', undefined);
  const auth = options.auth;
  if (!auth) return;
  const serviceCallers = options.serviceCallers ?? true;

  app.addHook('preValidation', async (request) => {
    const authorization = request.headers.authorization;
    const serviceToken = serviceCallers ? request.headers[H.serviceToken] : undefined;
    if (authorization === undefined && serviceToken === undefined) return;
    if (options.skip(request)) return;
    auth.touch();
    try {
      if (authorization !== undefined && !request.routeOptions.config?.serviceCredential) {
        const claims = await auth.verifier.accessToken(bearerToken(authorization));
        const user: AuthUser = { id: claims.sub, role: claims.role, sid: claims.sid };
        request.user = user;
        request.bazaar.user = user;
      }
      if (serviceToken !== undefined) {
        if (typeof serviceToken !== 'string') throw new TokenRejected('malformed', 'several service tokens');
        const claims = await auth.verifier.serviceToken(serviceToken);
        request.caller = { service: claims.svc };
      }
    } catch (err) {
      if (err instanceof TokenRejected) {
        request.log.debug({ reqId: request.id, reason: err.message }, 'token refused');
        throw new AppError('UNAUTHORIZED', 'The token is not valid (malformed, expired or not ours).', {
          headers: { 'www-authenticate': INVALID_TOKEN_CHALLENGE },
        });
      }
      if (err instanceof KeysUnavailable) {
        throw new AppError('SERVICE_UNAVAILABLE', 'Tokens cannot be checked right now; try again shortly.', {
          headers: { 'retry-after': '1' },
        });
      }
      throw err;
    }
  });
}

/** The token of an `Authorization: Bearer <token>` header; any other form is refused. */
export function bearerToken(header: string): string {
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!match) throw new TokenRejected('malformed', 'not a Bearer authorization');
  return match[1]!;
}
