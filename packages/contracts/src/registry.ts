import { type Static, Type } from 'typebox';
import { AppliedConfig } from './config.ts';

/** Instance ids: what an instance calls itself in the registry. */
export const InstanceId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });

/** Service names: lower-case slugs. */
export const ServiceName = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' });

/** `up` gets traffic; `draining` is leaving gracefully; `down` lost its lease (listed 60 s, then removed). */
export const InstanceStatus = Type.Union([
  Type.Literal('up'),
  Type.Literal('draining'),
  Type.Literal('down'),
]);
export type InstanceStatus = Static<typeof InstanceStatus>;

/** `PUT /v1/instances/:id` body. */
export const RegisterInstance = Type.Object(
  {
    service: ServiceName,
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }))),
  },
  { additionalProperties: false },
);
export type RegisterInstance = Static<typeof RegisterInstance>;

/** One instance as the registry lists it. */
export const Instance = Type.Object({
  id: InstanceId,
  service: ServiceName,
  host: Type.String(),
  port: Type.Integer(),
  version: Type.String(),
  status: InstanceStatus,
  metadata: Type.Record(Type.String(), Type.String()),
  registeredAt: Type.String({ format: 'date-time' }),
  lastHeartbeatAt: Type.String({ format: 'date-time' }),
  /** The live-config version it last reported in a heartbeat (null: none reported yet). */
  config: Type.Optional(Type.Union([AppliedConfig, Type.Null()])),
});
export type Instance = Static<typeof Instance>;

/** A service and its instances. */
export const Service = Type.Object({ name: ServiceName, instances: Type.Array(Instance) });
export type Service = Static<typeof Service>;

/** `GET /v1/services`. */
export const ServiceList = Type.Object({ services: Type.Array(Service) });
export type ServiceList = Static<typeof ServiceList>;

/** `PUT /v1/instances/:id/heartbeat` body (optional): what the instance applied of its live config. */
export const Heartbeat = Type.Object(
  { config: Type.Optional(AppliedConfig) },
  { additionalProperties: false },
);
export type Heartbeat = Static<typeof Heartbeat>;

/** A `config` event of `GET /v1/watch`: `service`'s live config is now at `version`. */
export const ConfigPushed = Type.Object({ service: ServiceName, version: Type.Integer({ minimum: 0 }) });
export type ConfigPushed = Static<typeof ConfigPushed>;

/**
 * Events on `GET /v1/watch` (server-sent events). `snapshot` comes first on every connection with
 * every service; `service` carries the whole new instance list of one service after any change;
 * `config` says a service's live config changed (instances fetch it with `GET /v1/config/:service`).
 */
export type RegistryEvent =
  | { event: 'snapshot'; data: ServiceList }
  | { event: 'service'; data: Service }
  | { event: 'config'; data: ConfigPushed };

/** Registry timing defaults (QUALITY.md): heartbeat 2 s, lease 6 s, sweep 1 s, down listed 60 s. */
export const RegistryTiming = {
  heartbeatMs: 2_000,
  leaseMs: 6_000,
  sweepMs: 1_000,
  downRetentionMs: 60_000,
} as const;
