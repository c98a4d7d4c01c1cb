/** Who may use a route at the gateway: anyone, a signed-in user, or an admin. */
export type AuthNeed = 'public' | 'user' | 'admin';

/**
 * A route's extra rate limit: `login` counts failed logins (identity's 401) per account and per
 * client address, and refuses further attempts with 429 once either is spent.
 */
export type RateLimitClass = 'login';

/** One row of the gateway's route table: requests under `prefix` go to `service`. */
export interface GatewayRoute {
  prefix: string;
  service: string;
  /** Checked at the gateway before forwarding; the service checks again (no trust in the network). */
  auth: AuthNeed;
  rateLimit?: RateLimitClass;
  /** Deadline of a request on this route (default 5 s); a client may ask for less, never more. */
  deadlineMs?: number;
}

/** A route the gateway serves itself, with its auth need. */
export interface OwnRoute {
  prefix: string;
  auth: AuthNeed;
}

/**
 * The route table: path prefixes of the public API and the service that serves each. Services
 * serve the same paths, so the gateway forwards them unchanged. Longest prefix wins. A `public`
 * prefix may hold routes its service restricts further (catalog's writes, identity's `/me`): a token
 * sent to a public route is still verified here.
 */
export const routeTable: GatewayRoute[] = [
  { prefix: '/api/products', service: 'catalog', auth: 'public' },
  { prefix: '/api/categories', service: 'catalog', auth: 'public' },
  { prefix: '/api/auth', service: 'identity', auth: 'public' },
  { prefix: '/api/auth/login', service: 'identity', auth: 'public', rateLimit: 'login' },
  { prefix: '/api/auth/me', service: 'identity', auth: 'user' },
  { prefix: '/api/auth/password', service: 'identity', auth: 'user' },
  { prefix: '/api/auth/logout-all', service: 'identity', auth: 'user' },
  { prefix: '/api/admin', service: 'identity', auth: 'admin' },
  { prefix: '/.well-known/jwks.json', service: 'identity', auth: 'public' },
  { prefix: '/api/inventory', service: 'inventory', auth: 'public' },
  { prefix: '/api/cart', service: 'cart', auth: 'user' },
  // A checkout answers within about 2 s by itself (201, else 202); the deadline leaves room for a
  // loaded system to get there without the gateway retrying a checkout that is still working.
  { prefix: '/api/orders', service: 'orders', auth: 'user', deadlineMs: 10_000 },
  { prefix: '/api/merchant/orders', service: 'orders', auth: 'user' },
  { prefix: '/api/payments', service: 'payments', auth: 'user' },
];

/** The gateway's own routes. */
export const ownRoutes: OwnRoute[] = [
  { prefix: '/api/ops', auth: 'admin' },
  { prefix: '/api/openapi.json', auth: 'public' },
  { prefix: '/api/docs', auth: 'public' },
];

/** The default deadline of a route. */
export const DEFAULT_DEADLINE_MS = 5_000;
