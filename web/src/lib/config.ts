/**
 * What the ops console asks of the config center (through the gateway): a service's current
 * config, its history, a change and a rollback. The services and their schemas come from the
 * contracts, the same list the registry validates against.
 */
import {
  type ConfigChange,
  type ConfigDocument,
  type ConfigHistory,
  type ConfigRollback,
  LiveConfigSchemas,
} from '@bazaar/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './api.ts';
import type { SchemaNode } from './config-values.ts';

/** Every service whose configuration can be changed live, in the contracts' order. */
export const CONFIG_SERVICES: readonly string[] = Object.keys(LiveConfigSchemas);

/** The live-config schema of `service`, or undefined when the config center does not know it. */
export function configSchema(service: string): SchemaNode | undefined {
  return Object.hasOwn(LiveConfigSchemas, service) ? (LiveConfigSchemas[service] as SchemaNode) : undefined;
}

const configKeys = {
  document: (service: string) => ['ops', 'config', service] as const,
  history: (service: string) => ['ops', 'config', service, 'history'] as const,
};

function configPath(service: string): string {
  return `/api/ops/config/${encodeURIComponent(service)}`;
}

/**
 * The service's current config. Fetched again only when asked (a change, a rollback, a reload):
 * the editor shows this version and saves against it, so it must not move under the operator.
 */
export function useConfig(service: string) {
  return useQuery({
    queryKey: configKeys.document(service),
    queryFn: ({ signal }) => api<ConfigDocument>(configPath(service), { signal }),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Every stored version of the service's config, newest first. */
export function useConfigHistory(service: string) {
  return useQuery({
    queryKey: configKeys.history(service),
    queryFn: ({ signal }) => api<ConfigHistory>(`${configPath(service)}/history`, { signal }),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Refetches the service's config and history (after a write, or when the operator reloads). */
export function useReloadConfig(service: string): () => Promise<void> {
  const queries = useQueryClient();
  return async () => {
    await queries.invalidateQueries({ queryKey: configKeys.document(service) });
  };
}

/** Replaces the service's values whole; answers the new version. */
export function useSaveConfig(service: string) {
  const reload = useReloadConfig(service);
  return useMutation({
    mutationFn: (change: ConfigChange) =>
      api<ConfigDocument>(configPath(service), { method: 'PUT', body: change }),
    onSuccess: reload,
  });
}

/** Makes a new version equal to an old one; answers the new version. */
export function useRollbackConfig(service: string) {
  const reload = useReloadConfig(service);
  return useMutation({
    mutationFn: (rollback: ConfigRollback) =>
      api<ConfigDocument>(`${configPath(service)}/rollback`, { method: 'POST', body: rollback }),
    onSuccess: reload,
  });
}
