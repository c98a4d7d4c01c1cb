import { AdminUser, AdminUserListQuery, AdminUserPage, AdminUserPatch, Problem } from '@bazaar/contracts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Accounts } from '../accounts.ts';
import { callerOf, type IdentityAuth } from '../auth.ts';
import { identityError } from '../errors.ts';
import { toAdminUser } from '../store/users.ts';

const TAGS = ['identity'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Not `format: uuid`: a malformed id is answered like an unknown one, 404.
const UserParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** User management for admins: `/api/admin/users`. */
export function adminRoutes(scope: FastifyInstance, deps: { accounts: Accounts; auth: IdentityAuth }): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts, auth } = deps;

  app.get(
    '/api/admin/users',
    {
      preHandler: auth.admin,
      schema: {
        tags: TAGS,
        operationId: 'listUsers',
        summary: 'List users, oldest first; `q` searches email and name',
        querystring: AdminUserListQuery,
        response: { 200: AdminUserPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => accounts.list(request.query),
  );

  app.patch(
    '/api/admin/users/:id',
    {
      preHandler: auth.admin,
      schema: {
        tags: TAGS,
        operationId: 'updateUser',
        summary: "Change a user's role or disable the account",
        description:
          "Either change ends the user's sessions; a disabled user's tokens are refused everywhere within a minute.",
        params: UserParams,
        body: AdminUserPatch,
        response: { 200: AdminUser, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request) => {
      if (!UUID.test(request.params.id)) throw identityError('USER_NOT_FOUND', 'There is no such user.');
      return toAdminUser(
        await accounts.update(callerOf(request).userId, request.params.id.toLowerCase(), request.body),
      );
    },
  );
}
