/** The table row that serves `path`: the longest prefix equal to the path or followed by `/`. */
export function matchRoute<R extends { prefix: string }>(table: readonly R[], path: string): R | undefined {
  let best: R | undefined;
  for (const route of table) {
    const hit = path === route.prefix || path.startsWith(`${route.prefix}/`);
    if (hit && (!best || route.prefix.length > best.prefix.length)) best = route;
  }
  return best;
}

/** The services a route table sends traffic to, each once. */
export function servicesOf(table: readonly { service: string }[]): string[] {
  return [...new Set(table.map((r) => r.service))].sort();
}
