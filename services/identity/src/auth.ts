import { Headers, type Role } from '@bazaar/contracts';
import { AppError, type CredentialCheck } from '@bazaar/kit';
import type { FastifyRequest } from 'fastify';
import type { Queryable } from './store/db.ts';
import { sessionStatus } from './store/sessions.ts';
import { TokenRejected, type TokenVerifier } from './tokens/verifier.ts';

/** The user a request acts for, after its access token and session were checked. */
export interface Caller {
  userId: string;
  /** The role as stored now (a role change ends the user's sessions anyway). */
  role: Role;
  sid: string;
}

const callers = new WeakMap<FastifyRequest, Caller>();
const services = new WeakMap<FastifyRequest, string>();

/** The caller that `auth.user` or `auth.admin` authenticated on this request. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error('route has no user authentication');
  return caller;
}

/** The service that `auth.service` authenticated on this request. */
export function serviceOf(request: FastifyRequest): string {
  const service = services.get(request);
  if (!service) throw new Error('route has no service authentication');
  return service;
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/**
 * Identity's own authentication (preHandler hooks): `user` and `admin` check the access token
 * (identity holds the keys) and that its session is live and its user enabled; `service` checks a
 * service credential, or a service token addressed to identity where `tokens` is allowed.
 */
export function identityAuth(deps: { verifier: TokenVerifier; db: Queryable; credentials: CredentialCheck }) {
  const user = async (request: FastifyRequest): Promise<void> => {
    const token = bearer(request);
    const refuse = (detail: string) =>
      new AppError('UNAUTHORIZED', detail, {
        headers: {
          'www-authenticate': token
            ? 'Bearer realm="bazaar", error="invalid_token"'
            : 'Bearer realm="bazaar"',
        },
      });
    if (!token) throw refuse('Send an access token as "Authorization: Bearer <token>".');
    let claims: Awaited<ReturnType<TokenVerifier['accessToken']>>;
    try {
      claims = await deps.verifier.accessToken(token);
    } catch (err) {
      if (err instanceof TokenRejected) {
        request.log.debug({ reason: err.message }, 'access token rejected');
        throw refuse('The access token is not valid.');
      }
      throw err;
    }
    const status = await sessionStatus(deps.db, claims.sid);
    if (!status || status.user_id !== claims.sub || status.revoked_at || status.disabled_at) {
      throw refuse('The session of this access token has ended.');
    }
    callers.set(request, { userId: claims.sub, role: status.role, sid: claims.sid });
  };

  const admin = async (request: FastifyRequest): Promise<void> => {
    await user(request);
    if (callerOf(request).role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins may do this.');
  };

  const service =
    (options: { tokens: boolean }) =>
    async (request: FastifyRequest): Promise<void> => {
      const serviceToken = request.headers[Headers.serviceToken];
      if (options.tokens && typeof serviceToken === 'string') {
        try {
          services.set(request, (await deps.verifier.serviceToken(serviceToken, 'identity')).svc);
          return;
        } catch (err) {
          if (!(err instanceof TokenRejected)) throw err;
          throw new AppError('CREDENTIAL_INVALID', 'The service token is not valid for identity.', {
            headers: { 'www-authenticate': 'Bearer realm="bazaar-internal", error="invalid_token"' },
          });
        }
      }
      const credential = bearer(request);
      if (!credential) {
        throw new AppError(
          'CREDENTIAL_REQUIRED',
          'Send the service credential as "Authorization: Bearer <credential>".',
          {
            headers: { 'www-authenticate': 'Bearer realm="bazaar-internal"' },
          },
        );
      }
      const name = deps.credentials.serviceOf(credential);
      if (!name) {
        throw new AppError('CREDENTIAL_INVALID', 'This credential is not known to identity.', {
          headers: { 'www-authenticate': 'Bearer realm="bazaar-internal", error="invalid_token"' },
        });
      }
      services.set(request, name);
    };

  return { user, admin, service };
}

/** The hooks {@link identityAuth} makes. */
export type IdentityAuth = ReturnType<typeof identityAuth>;
