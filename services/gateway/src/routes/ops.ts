import type { RegistryView, ServiceClient } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';

/**
 * `GET /api/ops/services`: every service and instance as the registry last told us, with this
 * gateway's own view of each instance: circuit state, ejection, requests in flight, latency.
 */
export function opsRoutes(
  scope: FastifyInstance,
  deps: { registry: RegistryView; routed: readonly string[]; client: (service: string) => ServiceClient },
): void {
  scope.get(
    '/api/ops/services',
    { schema: { tags: ['ops'], summary: 'Services, instances and circuits' } },
    async () => {
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
              lastHeartbeatAt: i.lastHeartbeatAt,
              circuit: view?.circuit ?? null,
              ejected: view?.ejected ?? false,
              inflight: view?.inflight ?? 0,
              latencyMs: view?.ewmaMs ?? null,
            };
          }),
        };
      });
      return { items, nextCursor: null, registryConnected: deps.registry.connected };
    },
  );
}
