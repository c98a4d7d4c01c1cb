import {
  ConfigChange,
  ConfigDocument,
  ConfigHistory,
  ConfigRollback,
  Problem,
  ServiceName,
  type User,
} from '@bazaar/contracts';
import { type AuthUser, requireRole, type ServiceClient } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ConfigCenter } from '../ops/config-center.ts';

const TAGS = ['ops'];
const ServiceParams = Type.Object({ service: ServiceName });
const errors = { 401: Problem, 403: Problem, 404: Problem, 503: Problem };

/** What the config routes need. */
export interface OpsConfigDependencies {
  center: ConfigCenter;
  /** Identity, to name the admin who changes a config by email. */
  identity: () => ServiceClient;
}

/**
 * The config center in the ops API (admins only, by the route table; checked again here): a
 * service's live config, a change with a reason, its history and a rollback, forwarded to the
 * registry with the admin as the author.
 */
export function opsConfigRoutes(scope: FastifyInstance, deps: OpsConfigDependencies): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const path = (service: string) => `/v1/config/${encodeURIComponent(service)}`;

  app.get(
    '/api/ops/config/:service',
    {
      schema: {
        tags: TAGS,
        operationId: 'getOpsConfig',
        summary: "A service's live config",
        description:
          'Version 0 means nothing was ever set: the values are the defaults, and instances keep their environment settings.',
        params: ServiceParams,
        response: { 200: ConfigDocument, ...errors },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      return deps.center.call<ConfigDocument>('GET', path(request.params.service));
    },
  );

  app.put(
    '/api/ops/config/:service',
    {
      schema: {
        tags: TAGS,
        operationId: 'changeOpsConfig',
        summary: "Replace a service's live config",
        description:
          'The values replace the old ones whole and are pushed to every instance of the service. 400 names ' +
          'each invalid field; 409 when `expectedVersion` is not the current version.',
        params: ServiceParams,
        body: ConfigChange,
        response: { 200: ConfigDocument, 400: Problem, 409: Problem, ...errors },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      const author = await authorOf(admin, deps.identity);
      const { service } = request.params;
      const document = await deps.center.call<ConfigDocument>('PUT', path(service), {
        ...request.body,
        author,
      });
      request.log.warn(
        { service, configVersion: document.version, author, reason: request.body.reason },
        'live config changed',
      );
      return document;
    },
  );

  app.get(
    '/api/ops/config/:service/history',
    {
      schema: {
        tags: TAGS,
        operationId: 'getOpsConfigHistory',
        summary: "Every version of a service's live config, newest first",
        params: ServiceParams,
        response: { 200: ConfigHistory, ...errors },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      return deps.center.call<ConfigHistory>('GET', `${path(request.params.service)}/history`);
    },
  );

  app.post(
    '/api/ops/config/:service/rollback',
    {
      schema: {
        tags: TAGS,
        operationId: 'rollbackOpsConfig',
        summary: "Restore an earlier version of a service's live config",
        description: 'Makes a new version equal to `version`, pushed like any change.',
        params: ServiceParams,
        body: ConfigRollback,
        response: { 200: ConfigDocument, 400: Problem, ...errors },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      const author = await authorOf(admin, deps.identity);
      const { service } = request.params;
      const document = await deps.center.call<ConfigDocument>('POST', `${path(service)}/rollback`, {
        ...request.body,
        author,
      });
      request.log.warn(
        { service, configVersion: document.version, rolledBackTo: request.body.version, author },
        'live config rolled back',
      );
      return document;
    },
  );
}

/** The admin as history shows them: their email as identity knows it, else their id. */
async function authorOf(admin: AuthUser, identity: () => ServiceClient): Promise<string> {
  try {
    // The admin's own token travels with the call: identity answers who they are.
    const me = await identity().json<User>({ path: '/api/auth/me', maxReadAttemptMs: 1_000 });
    if (me.id === admin.id && me.email) return me.email;
  } catch {
    // Identity away: the id still names the admin.
  }
  return admin.id;
}
