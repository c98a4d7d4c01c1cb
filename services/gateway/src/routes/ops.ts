import { PassThrough } from 'node:stream';
import { type Instance, InstanceId, OpsMetrics, OpsServiceList, Problem } from '@bazaar/contracts';
import { AppError, type RegistryView, requireRole, type ServiceClient } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import type { RegistryHeartbeats } from '../ops/heartbeats.ts';
import { type ProcessControl, refusalToKill } from '../ops/processes.ts';
import { ServicesFeed } from '../ops/services-feed.ts';
import type { TrafficCollector } from '../ops/traffic-collector.ts';

const TAGS = ['ops'];
const errors = { 401: Problem, 403: Problem };

/** `GET /api/ops/metrics` query: one service or all, over the last `window` seconds. */
const MetricsQuery = Type.Object(
  {
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    window: Type.Optional(Type.Integer({ minimum: 60, maximum: 3600, default: 900 })),
  },
  { additionalProperties: false },
);

/** `POST /api/ops/instances/:id/kill` answer: the instance and the process that was sent SIGKILL. */
const KilledInstance = Type.Object({ id: Type.String(), pid: Type.Integer() });

/** What the ops routes read and act on. */
export interface OpsDependencies {
  registry: RegistryView;
  routed: readonly string[];
  client: (service: string) => ServiceClient;
  /** Started by `bazaar up` (`BAZAAR_EMBEDDED`): instances may be killed from the console. */
  embedded: boolean;
  traffic: TrafficCollector;
  processes: ProcessControl;
  /** Fresher heartbeats (and live-config reports) than the registry's watch carries. */
  heartbeats?: Pick<RegistryHeartbeats, 'lastHeartbeat' | 'appliedConfig'>;
}

/**
 * The ops console's API (admins only, by the route table): services with this gateway's view of
 * each instance, the same as a live stream, traffic series, and killing an instance in embedded mode.
 */
export function opsRoutes(scope: FastifyInstance, deps: OpsDependencies): void {
  const list = () => servicesList(deps);
  const feed = new ServicesFeed({ list, changes: deps.registry });
  // Before the server waits for open connections to end: end the streams that never would.
  scope.addHook('preClose', (done) => {
    feed.close();
    done();
  });

  scope.get(
    '/api/ops/services',
    {
      schema: {
        tags: TAGS,
        operationId: 'listOpsServices',
        summary: 'Services, instances and circuits',
        response: { 200: OpsServiceList, ...errors },
      },
    },
    async () => list(),
  );

  scope.get(
    '/api/ops/watch',
    {
      exposeHeadRoute: false,
      schema: {
        tags: TAGS,
        operationId: 'watchOpsServices',
        summary: 'Services, instances and circuits as server-sent events',
        description:
          'A `services` event with the same list as `GET /api/ops/services` at once, after registry ' +
          'changes and every 5 s; a `: ping` comment keeps idle proxies from closing the stream.',
      },
    },
    (_request, reply) => {
      const stream = new PassThrough();
      const unsubscribe = feed.subscribe({
        send: (frame) => stream.write(frame),
        end: () => stream.end(),
      });
      reply.raw.once('close', unsubscribe);
      return reply
        .type('text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        .send(stream);
    },
  );

  scope.get(
    '/api/ops/metrics',
    {
      schema: {
        tags: TAGS,
        operationId: 'getOpsMetrics',
        summary: 'Request rate, error rate and p50/p99 latency per service',
        description:
          'Points every scrape step over the last `window` seconds (60–3600, default 900), from ' +
          "every instance's own counters. An unknown `service` has no series.",
        querystring: MetricsQuery,
        response: { 200: OpsMetrics, 400: Problem, ...errors },
      },
    },
    async (request) => {
      const query = request.query as Static<typeof MetricsQuery>;
      return deps.traffic.metrics(query.window ?? 900, query.service);
    },
  );

  scope.post(
    '/api/ops/instances/:id/kill',
    {
      schema: {
        tags: TAGS,
        operationId: 'killOpsInstance',
        summary: "Kill an instance's process (embedded mode; the supervisor starts it again)",
        params: Type.Object({ id: InstanceId }),
        response: { 202: KilledInstance, 404: Problem, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      if (!deps.embedded) {
        throw new AppError(
          'NOT_FOUND',
          'Killing instances is only available in embedded mode (the system started by `bazaar up`).',
        );
      }
      const { id } = request.params as { id: string };
      const instance = findInstance(deps.registry, id);
      if (!instance) throw new AppError('INSTANCE_NOT_FOUND', `No instance ${id} is registered.`);
      const pid = Number(instance.metadata.pid);
      if (!Number.isInteger(pid) || pid <= 0) {
        throw new AppError('INVALID_STATE', `Instance ${id} does not say which process it runs in.`);
      }
      const refusal = refusalToKill(pid, deps.processes);
      if (refusal) throw new AppError('INVALID_STATE', refusal);
      try {
        deps.processes.kill(pid);
      } catch (err) {
        throw new AppError('INVALID_STATE', `Process ${pid} could not be killed.`, { cause: err });
      }
      request.log.warn(
        { instance: id, service: instance.service, pid, by: admin.id },
        'instance killed from the ops console',
      );
      return reply.code(202).send({ id, pid });
    },
  );
}

/** Every service and instance as the registry last told us, with this gateway's view of each. */
function servicesList(deps: OpsDependencies): OpsServiceList {
  const items = deps.registry.services().map((service) => {
    const views = deps.routed.includes(service.name)
      ? new Map(
          deps
            .client(service.name)
            .endpoints()
            .map((e) => [e.id, e]),
        )
      : new Map();
    return {
      name: service.name,
      instances: service.instances.map((i) => {
        const view = views.get(i.id);
        return {
          id: i.id,
          host: i.host,
          port: i.port,
          version: i.version,
          status: i.status,
          lastHeartbeatAt: deps.heartbeats?.lastHeartbeat(i.id) ?? i.lastHeartbeatAt,
          circuit: view?.circuit ?? null,
          ejected: view?.ejected ?? false,
          inflight: view?.inflight ?? 0,
          latencyMs: view?.ewmaMs ?? null,
          killable: deps.embedded && i.status !== 'down' && Number(i.metadata.pid) !== process.pid,
          config: deps.heartbeats?.appliedConfig(i.id) ?? i.config ?? null,
        };
      }),
    };
  });
  return {
    items,
    nextCursor: null,
    registryConnected: deps.registry.connected,
    killable: deps.embedded,
  };
}

function findInstance(registry: RegistryView, id: string): Instance | undefined {
  for (const service of registry.services()) {
    const found = service.instances.find((i) => i.id === id);
    if (found) return found;
  }
  return undefined;
}
