/** The parts of an OpenAPI document the merge reads. */
export interface OpenApiDocument {
  openapi?: string;
  info?: Record<string, unknown>;
  paths?: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> } & Record<string, unknown>;
  tags?: { name: string }[];
  [key: string]: unknown;
}

/**
 * Merges the services' OpenAPI documents into one for the public API: their `/api` paths (each
 * operation tagged with its service when untagged) and their component schemas. Services that did
 * not answer are named in `x-bazaar-unavailable`.
 */
export function mergeOpenApi(
  base: OpenApiDocument,
  parts: { service: string; document: OpenApiDocument | undefined }[],
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = { ...(base.paths ?? {}) };
  const schemas: Record<string, unknown> = { ...(base.components?.schemas ?? {}) };
  const unavailable: string[] = [];
  for (const { service, document } of parts) {
    if (!document) {
      unavailable.push(service);
      continue;
    }
    for (const [path, operations] of Object.entries(document.paths ?? {})) {
      if (!path.startsWith('/api/') && !path.startsWith('/.well-known/')) continue;
      const tagged: Record<string, unknown> = {};
      for (const [method, op] of Object.entries(operations)) {
        const operation = op as { tags?: string[] };
        tagged[method] = operation.tags?.length ? operation : { ...operation, tags: [service] };
      }
      paths[path] = { ...(paths[path] ?? {}), ...tagged };
    }
    Object.assign(schemas, document.components?.schemas ?? {});
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    ...base,
    paths: sorted,
    components: { ...(base.components ?? {}), schemas },
    ...(unavailable.length > 0 ? { 'x-bazaar-unavailable': unavailable } : {}),
  };
}
