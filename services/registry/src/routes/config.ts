import {
  ConfigChange,
  ConfigDocument,
  ConfigHistory,
  ConfigRollback,
  LiveConfigSchemas,
  Problem,
  ServiceName,
} from '@bazaar/contracts';
import { AppError, type CredentialCheck, checkLiveConfig } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { type TObject, Type } from 'typebox';
import {
  type ConfigEntry,
  configHistory,
  configVersion,
  currentConfig,
  insertConfigVersion,
} from '../store/config.ts';
import { authenticate } from './credential.ts';

const ServiceParams = Type.Object({ service: ServiceName });
/** Who made the change, as the gateway vouches: the admin's email (or id). */
const Author = Type.String({ minLength: 1, maxLength: 320 });
const ChangeBody = Type.Object(
  { ...ConfigChange.properties, author: Author },
  { additionalProperties: false },
);
const RollbackBody = Type.Object(
  { ...ConfigRollback.properties, author: Author },
  { additionalProperties: false },
);
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** Attempts of a rollback that keeps meeting a concurrent change. */
const ROLLBACK_ATTEMPTS = 5;

/**
 * The config center (CONTRACT "Registry API"): each service's live config, versioned, validated
 * against its schema in contracts' `LiveConfigSchemas`. An instance reads its own service's config
 * with its credential; changes, history and rollback are the gateway's (the ops API, for admins).
 * Every new version is pushed to watchers as a `config` event.
 */
export function configRoutes(
  scope: FastifyInstance,
  deps: { db: pg.Pool; credentials: CredentialCheck; now: () => number },
): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { db, credentials, now } = deps;
  // Before the body is validated: a caller who may not write learns nothing about the body either.
  const preValidation = async (request: FastifyRequest) => gatewayOnly(request, credentials);

  app.get(
    '/v1/config/:service',
    { schema: { params: ServiceParams, response: { 200: ConfigDocument, ...errors } } },
    async (request) => {
      const caller = authenticate(request, credentials);
      const { service } = request.params;
      if (caller !== service && caller !== 'gateway') {
        throw new AppError('FORBIDDEN', `This credential reads ${caller}'s config, not ${service}'s.`);
      }
      const schema = schemaOf(service);
      const current = await currentConfig(db, service);
      if (current) return { service, version: current.version, values: current.values };
      return { service, version: 0, values: checked(schema, {}) };
    },
  );

  app.put(
    '/v1/config/:service',
    {
      preValidation,
      schema: { params: ServiceParams, body: ChangeBody, response: { 200: ConfigDocument, ...errors } },
    },
    async (request) => {
      const { service } = request.params;
      const values = checked(schemaOf(service), request.body.values);
      const { expectedVersion, reason, author } = request.body;
      return store(db, service, expectedVersion, { values, reason, author }, now());
    },
  );

  app.get(
    '/v1/config/:service/history',
    { preValidation, schema: { params: ServiceParams, response: { 200: ConfigHistory, ...errors } } },
    async (request) => {
      schemaOf(request.params.service);
      return { items: await configHistory(db, request.params.service), nextCursor: null };
    },
  );

  app.post(
    '/v1/config/:service/rollback',
    {
      preValidation,
      schema: { params: ServiceParams, body: RollbackBody, response: { 200: ConfigDocument, ...errors } },
    },
    async (request) => {
      const { service } = request.params;
      const schema = schemaOf(service);
      const { version, reason, author } = request.body;
      const old = await configVersion(db, service, version);
      if (!old)
        throw new AppError('CONFIG_VERSION_NOT_FOUND', `${service} has no config version ${version}.`);
      // Checked again: the schema may have changed since that version was stored.
      const values = checked(schema, old.values);
      for (let attempt = 1; ; attempt++) {
        const current = (await currentConfig(db, service))?.version ?? 0;
        try {
          return await store(db, service, current, { values, reason, author }, now());
        } catch (err) {
          // Someone else stored a version in between: roll back on top of theirs.
          const conflict = err instanceof AppError && err.code === 'CONFIG_VERSION_CONFLICT';
          if (!conflict || attempt >= ROLLBACK_ATTEMPTS) throw err;
        }
      }
    },
  );
}

/** Stores a new version on top of `expected`; 409 when the current version is another. */
async function store(db: pg.Pool, service: string, expected: number, entry: ConfigEntry, at: number) {
  const stored = await insertConfigVersion(db, service, expected, entry, at);
  if (!stored) {
    const current = (await currentConfig(db, service))?.version ?? 0;
    throw new AppError(
      'CONFIG_VERSION_CONFLICT',
      `${service}'s config is at version ${current}, not ${expected}: read it again and reapply your change.`,
    );
  }
  return { service, version: stored.version, values: stored.values };
}

/** The live-config schema of `service`; 404 for a service the config center does not know. */
function schemaOf(service: string): TObject {
  const schema = Object.hasOwn(LiveConfigSchemas, service) ? LiveConfigSchemas[service] : undefined;
  if (!schema) throw new AppError('SERVICE_NOT_FOUND', `The config center knows no service ${service}.`);
  return schema;
}

/** `values` with the schema's defaults filled; 400 naming each field that does not fit. */
function checked(schema: TObject, values: unknown): Record<string, unknown> {
  const check = checkLiveConfig(schema, values);
  if (!check.ok) {
    throw new AppError('VALIDATION_FAILED', 'The configuration has invalid fields; nothing was changed.', {
      errors: check.errors,
    });
  }
  return check.values;
}

/** Changes and history are the gateway's (the ops API, where admins are checked). */
function gatewayOnly(request: FastifyRequest, credentials: CredentialCheck): void {
  const caller = authenticate(request, credentials);
  if (caller !== 'gateway') throw new AppError('FORBIDDEN', 'Only the gateway may do this.');
}
