import type { Service } from '@bazaar/contracts';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { TObject } from 'typebox';
import type { AuthSources } from './auth/authenticator.ts';
import type { ServiceClient } from './client/service-client.ts';
import type { KitConfig } from './config.ts';
import type { ConsumerDefinition, EventWriter } from './events/api.ts';
import type { LiveConfigView } from './live-config/live-config.ts';
import type { Clock } from './time.ts';

/** What a service's routes, hooks and jobs are given: everything the kit set up for this instance. */
export interface ServiceContext<Config = Record<string, unknown>> {
  /** The service's name, as registered. */
  readonly name: string;
  /** This instance's id in the registry. */
  readonly instanceId: string;
  readonly log: Logger;
  /** The kit's own settings plus the service's `config` schema, read from the environment. */
  readonly config: KitConfig & Config;
  /** The service's own database; only for services that declare `migrations`. */
  readonly db: pg.Pool;
  /** A client for a service this one depends on (declared in `dependencies`). */
  client(service: string): ServiceClient;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  /** The registry as this instance last saw it (kept while the registry is away). */
  readonly registry: RegistryView;
  /** Writes events to this service's outbox, inside the caller's transaction. */
  readonly events: EventWriter;
  /** The live config this instance applied (the config center's; version 0: none set). */
  readonly liveConfig: LiveConfigView;
}

/** Read access to the local registry cache, and word when a service's instances change. */
export interface RegistryView {
  services(): Service[];
  readonly connected: boolean;
  on(event: 'change', listener: (service: string) => void): unknown;
  off(event: 'change', listener: (service: string) => void): unknown;
}

/** A Bazaar service, described: the kit builds and runs it. */
export interface ServiceDefinition<Config = Record<string, unknown>> {
  /** Registry name, also the metrics `service` label. */
  name: string;
  version?: string;
  /** Folder of numbered `.sql` files; declaring it gives the service a database (`BAZAAR_DATABASE_URL`). */
  migrations?: URL;
  /** Runs once per database after migrations, under the same advisory lock (first start seeds). */
  seed?: (db: pg.PoolClient, ctx: ServiceContext<Config>) => Promise<void>;
  /** Services this one calls; the kit watches them in the registry and builds a client for each. */
  dependencies?: string[];
  /** Extra environment settings of this service, validated at start (TypeBox object of strings). */
  config?: TObject;
  /** Event consumers; each gets every event of its types once per service, with an inbox. */
  consumers?: ConsumerDefinition<ServiceContext<Config>>[];
  /** The HTTP routes: a Fastify plugin, encapsulated. */
  routes: (app: FastifyInstance, ctx: ServiceContext<Config>) => Promise<void> | void;
  /** Called after the app listens and before registration, e.g. to start background jobs. */
  onStart?: (ctx: ServiceContext<Config>) => Promise<void> | void;
  /** Called during graceful shutdown, after in-flight requests drained and before pools close. */
  onStop?: (ctx: ServiceContext<Config>) => Promise<void> | void;
  /**
   * Whether the kit verifies the tokens that come with requests (`request.user`, `request.caller`).
   * Default: on when the service depends on `identity`. `{ sources }` replaces where the signing keys
   * and revocations come from (identity's own instances read them from their key ring).
   */
  auth?: boolean | AuthSettings<Config>;
  /** Whether the instance registers itself with the registry (the registry itself does not). */
  register?: boolean;
  /** When false, `/health/ready` does not wait for a registration (the registry itself). */
  readyNeedsRegistration?: boolean;
  /**
   * Applies the service's own parts of a live-config version pushed by the config center (values
   * checked against contracts' `LiveConfigSchemas[name]`, defaults filled), before the kit applies
   * `logLevel` and `resilience`. Throwing refuses the version: the instance keeps its old values and
   * reports why. Never called for version 0 (nothing set: environment settings hold).
   */
  liveConfig?: (values: Record<string, unknown>, ctx: ServiceContext<Config>) => void | Promise<void>;
}

/** How a service verifies tokens, when it needs more than `auth: true`. */
export interface AuthSettings<Config = Record<string, unknown>> {
  /** Where keys and revocations come from; default: identity, through the registry or `BAZAAR_IDENTITY_URL`. */
  sources?: (ctx: ServiceContext<Config>) => AuthSources;
  /**
   * Whether services call this one with service tokens (default true). The gateway, called only
   * by clients, says false: a `Bazaar-Service-Token` sent to it is ignored (and never forwarded).
   */
  serviceCallers?: boolean;
}

/** Whether the kit verifies tokens for this service (see `ServiceDefinition.auth`). */
export function authEnabled<C>(definition: Pick<ServiceDefinition<C>, 'auth' | 'dependencies'>): boolean {
  if (definition.auth !== undefined) return definition.auth !== false;
  return definition.dependencies?.includes('identity') ?? false;
}

/** Declares a service; the identity function gives type inference a place to hang on. */
export function defineService<Config = Record<string, unknown>>(
  definition: ServiceDefinition<Config>,
): ServiceDefinition<Config> {
  return definition;
}
