/** One row of the gateway's route table: requests under `prefix` go to `service`. */
export interface GatewayRoute {
  prefix: string;
  service: string;
  /** Deadline of a request on this route (default 5 s); a client may ask for less, never more. */
  deadlineMs?: number;
}

/**
 * The route table: path prefixes of the public API and the service that serves each. Services
 * serve the same paths, so the gateway forwards them unchanged. Longest prefix wins.
 */
export const routeTable: GatewayRoute[] = [
  { prefix: '/api/products', service: 'catalog' },
  { prefix: '/api/categories', service: 'catalog' },
];

/** The default deadline of a route. */
export const DEFAULT_DEADLINE_MS = 5_000;
