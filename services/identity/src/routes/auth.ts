import {
  LoginRequest,
  PasswordChange,
  Problem,
  RefreshRequest,
  RegisterRequest,
  TokenPair,
  User,
} from '@bazaar/contracts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../accounts.ts';
import { callerOf, type IdentityAuth } from '../auth.ts';
import type { Sessions } from '../sessions.ts';
import { toUser } from '../store/users.ts';

const TAGS = ['identity'];
// Tokens must never be kept by a cache on the way (RFC 6749 §5.1).
const NO_STORE = 'no-store';

/** Accounts and sessions of end users: `/api/auth/*` (CONTRACT "Routes"). */
export function authRoutes(
  scope: FastifyInstance,
  deps: { accounts: Accounts; sessions: Sessions; auth: IdentityAuth },
): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts, sessions, auth } = deps;

  app.post(
    '/api/auth/register',
    {
      schema: {
        tags: TAGS,
        operationId: 'register',
        summary: 'Create a customer or merchant account',
        description:
          'Nobody registers as admin: `role` is `customer` (default) or `merchant`; other fields are refused.',
        body: RegisterRequest,
        response: { 201: User, 400: Problem, 409: Problem },
      },
    },
    async (request, reply) => reply.code(201).send(toUser(await accounts.register(request.body))),
  );

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: TAGS,
        operationId: 'login',
        summary: 'Log in: an access token and a refresh token',
        body: LoginRequest,
        response: { 200: TokenPair, 400: Problem, 401: Problem },
      },
    },
    async (request, reply) => {
      const pair = await sessions.login(request.body.email, request.body.password);
      return reply.header('cache-control', NO_STORE).send(pair);
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      schema: {
        tags: TAGS,
        operationId: 'refresh',
        summary: 'Exchange a refresh token (spent by this) for a new pair',
        body: RefreshRequest,
        response: { 200: TokenPair, 400: Problem, 401: Problem },
      },
    },
    async (request, reply) => {
      const pair = await sessions.refresh(request.body.refreshToken);
      return reply.header('cache-control', NO_STORE).send(pair);
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags: TAGS,
        operationId: 'logout',
        summary: 'End the session of this refresh token',
        description: 'The refresh token is the credential; an unknown one is answered 204 as well.',
        body: RefreshRequest,
        response: { 204: { type: 'null' }, 400: Problem },
      },
    },
    async (request, reply) => {
      await sessions.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/logout-all',
    {
      preHandler: auth.user,
      schema: {
        tags: TAGS,
        operationId: 'logoutAll',
        summary: 'End every session of the caller, this one included',
        response: { 204: { type: 'null' }, 401: Problem },
      },
    },
    async (request, reply) => {
      await sessions.endNow({ userId: callerOf(request).userId }, 'logout-all');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    {
      preHandler: auth.user,
      schema: {
        tags: TAGS,
        operationId: 'me',
        summary: 'The caller',
        response: { 200: User, 401: Problem },
      },
    },
    async (request, reply) => {
      const user = await accounts.get(callerOf(request).userId);
      return reply.header('cache-control', NO_STORE).send(toUser(user));
    },
  );

  app.post(
    '/api/auth/password',
    {
      preHandler: auth.user,
      schema: {
        tags: TAGS,
        operationId: 'changePassword',
        summary: "Change the caller's password; every other session ends",
        body: PasswordChange,
        response: { 204: { type: 'null' }, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request, reply) => {
      await accounts.changePassword(
        callerOf(request),
        request.body.currentPassword,
        request.body.newPassword,
      );
      return reply.code(204).send(null);
    },
  );
}
