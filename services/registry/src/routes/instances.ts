import {
  type AppliedConfig,
  Heartbeat,
  InstanceId,
  RegisterInstance,
  RegistryTiming,
  ServiceList,
  ServiceName,
} from '@bazaar/contracts';
import { AppError, type CredentialCheck } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import Value from 'typebox/value';
import { leaseUntil } from '../domain/lease.ts';
import { heartbeatCounter } from '../heartbeat-metrics.ts';
import {
  drainInstance,
  listServices,
  renewLease,
  serviceOfInstance,
  upsertInstance,
} from '../store/instances.ts';
import type { WatchHub } from '../watch-hub.ts';
import { authenticate } from './credential.ts';

const IdParams = Type.Object({ id: InstanceId });
const NameParams = Type.Object({ name: ServiceName });
const timing = { leaseMs: RegistryTiming.leaseMs, downRetentionMs: RegistryTiming.downRetentionMs };

/** The registry API (CONTRACT "Registry API"). */
export function instanceRoutes(
  scope: FastifyInstance,
  deps: { db: pg.Pool; credentials: CredentialCheck; hub: WatchHub; now: () => number; metrics: Registry },
): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { db, credentials, hub, now } = deps;
  const heartbeats = heartbeatCounter(deps.metrics);

  app.put(
    '/v1/instances/:id',
    { schema: { params: IdParams, body: RegisterInstance } },
    async (request, reply) => {
      const caller = authenticate(request, credentials);
      if (caller !== request.body.service) {
        throw new AppError(
          'FORBIDDEN',
          `This credential registers ${caller} instances, not ${request.body.service}.`,
        );
      }
      const existing = await serviceOfInstance(db, request.params.id);
      if (existing && existing !== request.body.service) {
        throw new AppError('CONFLICT', `Instance ${request.params.id} is registered for another service.`);
      }
      const at = now();
      const { created, instance } = await upsertInstance(
        db,
        request.params.id,
        request.body,
        at,
        leaseUntil(at, timing),
      );
      return reply
        .code(created ? 201 : 200)
        .send({ ...instance, heartbeatMs: RegistryTiming.heartbeatMs, leaseMs: RegistryTiming.leaseMs });
    },
  );

  app.put('/v1/instances/:id/heartbeat', { schema: { params: IdParams } }, async (request, reply) => {
    const caller = authenticate(request, credentials);
    const at = now();
    const applied = appliedConfig(request);
    const renewal = await renewLease(db, request.params.id, caller, at, leaseUntil(at, timing), applied);
    if (renewal === 'forbidden') {
      heartbeats.inc({ outcome: 'refused' });
      throw new AppError('FORBIDDEN', "Not this credential's instance.");
    }
    if (renewal === 'unknown') {
      heartbeats.inc({ outcome: 'unknown' });
      throw new AppError(
        'INSTANCE_NOT_FOUND',
        'This instance is not registered (or was evicted): register again.',
      );
    }
    heartbeats.inc({ outcome: 'renewed' });
    return reply.code(204).send();
  });

  app.delete('/v1/instances/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const caller = authenticate(request, credentials);
    const owner = await serviceOfInstance(db, request.params.id);
    if (owner === undefined) throw new AppError('INSTANCE_NOT_FOUND', 'This instance is not registered.');
    if (owner !== caller) throw new AppError('FORBIDDEN', "Not this credential's instance.");
    await drainInstance(db, request.params.id);
    return reply.code(204).send();
  });

  app.get('/v1/services', { schema: { response: { 200: ServiceList } } }, async () => ({
    services: await listServices(db),
  }));

  app.get('/v1/services/:name', { schema: { params: NameParams } }, async (request) => {
    const [service] = await listServices(db, request.params.name);
    if (!service)
      throw new AppError('SERVICE_NOT_FOUND', `No instance of ${request.params.name} is registered.`);
    return service;
  });

  app.get('/v1/watch', async (request, reply) => {
    reply.hijack();
    await hub.add(reply.raw);
    request.log.debug('watcher connected');
  });
}

/**
 * What a heartbeat reports of the instance's live config. The body is optional, and a malformed one
 * is dropped (and logged) rather than costing the instance its lease.
 */
function appliedConfig(request: FastifyRequest): AppliedConfig | undefined {
  const body = request.body;
  if (body === undefined || body === null || body === '') return undefined;
  if (Value.Check(Heartbeat, body)) return body.config;
  request.log.warn('heartbeat report ignored: not a Heartbeat body');
  return undefined;
}
