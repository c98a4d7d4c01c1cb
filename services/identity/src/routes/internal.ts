import { Revocations, ServiceTokenAnswer, ServiceTokenRequest, USER_AUDIENCE } from '@bazaar/contracts';
import { AppError, type Clock, type CredentialCheck } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Accounts } from '../accounts.ts';
import { type IdentityAuth, serviceOf } from '../auth.ts';
import { identityError } from '../errors.ts';
import type { Queryable } from '../store/db.ts';
import { listRevocations } from '../store/revocations.ts';
import type { TokenIssuer } from '../tokens/issuer.ts';

/** Routes for other services: service tokens in exchange for a credential, and the revocation list. */
export function internalRoutes(
  scope: FastifyInstance,
  deps: {
    db: Queryable;
    issuer: TokenIssuer;
    auth: IdentityAuth;
    credentials: CredentialCheck;
    clock: Clock;
    accounts: Accounts;
  },
): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { db, issuer, auth, credentials, clock, accounts } = deps;

  app.post(
    '/internal/service-tokens',
    {
      preHandler: auth.service({ tokens: false }),
      schema: { body: ServiceTokenRequest, response: { 200: ServiceTokenAnswer } },
    },
    async (request) => {
      const audience = request.body.audience;
      if (audience === USER_AUDIENCE || !credentials.knows(audience)) {
        throw identityError('UNKNOWN_AUDIENCE', `There is no service called ${audience}.`, {
          errors: [{ path: 'body/audience', message: 'is not a service' }],
        });
      }
      const token = await issuer.serviceToken(serviceOf(request), audience);
      return { token, expiresIn: issuer.lifetimes.service };
    },
  );

  app.get(
    '/internal/revocations',
    { preHandler: auth.service({ tokens: true }), schema: { response: { 200: Revocations } } },
    async (_request, reply) => {
      const now = clock.now();
      const lists = await listRevocations(db, new Date(now));
      return reply
        .header('cache-control', 'no-store')
        .send({ ...lists, generatedAt: Math.floor(now / 1000) });
    },
  );

  app.post(
    '/internal/accounts/reset-password',
    {
      preHandler: auth.service({ tokens: false }),
      schema: {
        hide: true,
        body: Type.Object(
          { email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 128 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      // Break glass: only identity's own credential, which only the operator holds, may do this.
      if (serviceOf(request) !== 'identity') {
        throw new AppError('FORBIDDEN', "Only the identity service's own credential may reset passwords.");
      }
      const user = await accounts.resetPassword(request.body.email, request.body.password);
      request.log.warn({ userId: user.id }, 'password reset by the operator');
      return reply.code(204).send();
    },
  );
}
