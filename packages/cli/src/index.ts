export { credentialHashes, loadOrCreateServiceCredentials } from './credentials.ts';
export { removeDataDir } from './data-dir.ts';
export type { EmbeddedCluster, EmbeddedPostgresOptions } from './postgres.ts';
export { startEmbeddedPostgres } from './postgres.ts';
export type { ServiceSpec } from './services.ts';
export { services, startGroups } from './services.ts';
export type {
  InstanceInfo,
  InstanceSpec,
  ReadyMessage,
  SlotState,
  SupervisorOptions,
  WaitReadyOptions,
} from './supervisor.ts';
export { createSupervisor, Supervisor } from './supervisor.ts';
export type { StartSystemOptions, System } from './system.ts';
export { startSystem } from './system.ts';
