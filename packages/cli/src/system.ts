import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { credentialHashes, loadOrCreateServiceCredentials } from './credentials.ts';
import { type DataLock, lockDataDir } from './data-lock.ts';
import { loadOrCreateDemoIds } from './demo.ts';
import { portIsFree } from './free-port.ts';
import { type EmbeddedCluster, startEmbeddedPostgres } from './postgres.ts';
import { repoRoot } from './repo-root.ts';
import { services as defaultServices, entryPath, type ServiceSpec, startGroups } from './services.ts';
import { createSupervisor, type InstanceInfo, type InstanceSpec, type Supervisor } from './supervisor.ts';

/** Options of {@link startSystem}. */
export interface StartSystemOptions {
  /** The data folder (cluster, secrets, logs). */
  dataDir: string;
  /** Gateway port (default `BAZAAR_GATEWAY_PORT` or 8080; 0 for any). */
  gatewayPort?: number;
  /** Registry port (default `BAZAAR_REGISTRY_PORT` or 8761; 0 for any). */
  registryPort?: number;
  /** Embedded PostgreSQL port (default `BAZAAR_PG_PORT`, else the one kept in the data folder). */
  pgPort?: number;
  /** Instances per service, overriding the table's defaults. */
  replicas?: Record<string, number>;
  /** Print nothing (logs still go to `<dataDir>/logs`). */
  quiet?: boolean;
  /** Extra environment for every child. */
  env?: Record<string, string>;
  /** `BAZAAR_LOG_LEVEL` of every child (default `BAZAAR_LOG_LEVEL` or `info`). */
  logLevel?: string;
  /** The services to run, instead of the standard table (tests run fixtures). */
  services?: readonly ServiceSpec[];
  /** How long each start group may take to become ready (default 90 s). */
  readyTimeoutMs?: number;
  /** Terminal output (default stdout). */
  write?: (text: string) => void;
  /** Aborting stops whatever has started and rejects. */
  signal?: AbortSignal;
}

/** The running embedded system. */
export interface System {
  /** `http://127.0.0.1:<gateway port>`. */
  gatewayUrl: string;
  /** `http://127.0.0.1:<registry port>` (the first registry instance). */
  registryUrl: string;
  supervisor: Supervisor;
  cluster: EmbeddedCluster;
  /** Each service's secret. */
  credentials: Record<string, string>;
  dataDir: string;
  /** `<dataDir>/logs`. */
  logDir: string;
  /** Every slot with what its ready message said, in start order. */
  instances: InstanceInfo[];
  /** Stops every child in reverse start order, then the cluster. */
  stop(): Promise<void>;
}

function envPort(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${name} must be a port number (got ${value})`);
  return port;
}

/** Our own variables a child must not inherit from the caller's shell (each child gets its own). */
const NOT_INHERITED = [
  'BAZAAR_DATABASE_URL',
  'BAZAAR_INSTANCE_ID',
  'BAZAAR_PORT',
  'BAZAAR_SERVICE_CREDENTIAL',
  'BAZAAR_SERVICE_CREDENTIALS',
  'BAZAAR_ADVERTISE_PORT',
  'BAZAAR_SLOT',
  'NODE_TEST_CONTEXT',
];

function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of NOT_INHERITED) delete env[key];
  return env;
}

/** An error of {@link startSystem}: `Bazaar could not start: <reason>`. */
function startError(reason: string, cause?: unknown): Error {
  return new Error(`Bazaar could not start: ${reason}`, cause === undefined ? undefined : { cause });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new Error('start-up was interrupted'));
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(new Error('start-up was interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Starts the whole embedded system: the PostgreSQL cluster and a database per service (plus `bus`),
 * the registry, every other service at once, then the gateway, each waited for until ready.
 * On failure, whatever started is stopped and the promise rejects with the reason.
 */
export async function startSystem(options: StartSystemOptions): Promise<System> {
  const dataDir = resolve(options.dataDir);
  const logDir = join(dataDir, 'logs');
  const table = options.services ?? defaultServices;
  const gatewayPort =
    options.gatewayPort ?? envPort(process.env.BAZAAR_GATEWAY_PORT, 8080, 'BAZAAR_GATEWAY_PORT');
  const registryPort =
    options.registryPort ?? envPort(process.env.BAZAAR_REGISTRY_PORT, 8761, 'BAZAAR_REGISTRY_PORT');
  const pgPort =
    options.pgPort ??
    (process.env.BAZAAR_PG_PORT ? envPort(process.env.BAZAAR_PG_PORT, 0, 'BAZAAR_PG_PORT') : undefined);
  const logLevel = options.logLevel ?? process.env.BAZAAR_LOG_LEVEL ?? 'info';
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));

  const replicas = new Map(table.map((s) => [s.name, s.replicas]));
  for (const [name, count] of Object.entries(options.replicas ?? {})) {
    if (!replicas.has(name))
      throw startError(`unknown service in replicas: ${name} (known: ${[...replicas.keys()].join(', ')})`);
    if (!Number.isInteger(count) || count < 1 || count > 64)
      throw startError(`replicas of ${name} must be 1 to 64 (got ${count})`);
    replicas.set(name, count);
  }
  for (const spec of table) {
    const entry = entryPath(spec);
    if (!existsSync(entry))
      throw startError(`the ${spec.name} service's entry ${relative(repoRoot, entry)} does not exist`);
  }
  for (const [port, name, variable] of [
    [gatewayPort, 'gateway', 'BAZAAR_GATEWAY_PORT'],
    [registryPort, 'registry', 'BAZAAR_REGISTRY_PORT'],
  ] as const) {
    if (port !== 0 && table.some((s) => s.name === name) && !(await portIsFree(port))) {
      throw startError(`port ${port} for the ${name} is already in use (choose another with ${variable})`);
    }
  }

  mkdirSync(logDir, { recursive: true });
  let lock: DataLock;
  try {
    lock = lockDataDir(dataDir);
  } catch (err) {
    throw startError((err as Error).message, err);
  }
  const pgLog = createWriteStream(join(logDir, 'postgres.log'), { flags: 'a' });
  pgLog.on('error', () => undefined);
  let cluster: EmbeddedCluster | undefined;
  let supervisor: Supervisor | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await supervisor?.stopAll();
      } finally {
        await cluster?.stop();
        await new Promise<void>((r) => pgLog.end(r));
        lock.release();
      }
    })();
    return stopping;
  };

  try {
    cluster = await abortable(
      startEmbeddedPostgres({
        dataDir,
        port: pgPort,
        log: (line) => {
          pgLog.write(`${line}\n`);
          if (!options.quiet && /\b(FATAL|PANIC):/.test(line)) write(`postgres │ ${line}\n`);
        },
      }),
      options.signal,
    );
    const databases = new Set<string>(['bus']);
    for (const spec of table) if (spec.database) databases.add(spec.database);
    await abortable(Promise.all([...databases].map((db) => cluster!.ensureDatabase(db))), options.signal);

    const credentials = loadOrCreateServiceCredentials(
      dataDir,
      table.map((s) => s.name),
    );
    const hashes = JSON.stringify(credentialHashes(credentials));
    const demo = loadOrCreateDemoIds(dataDir);
    supervisor = createSupervisor({ cwd: repoRoot, logDir, env: baseEnv(), quiet: options.quiet, write });

    const common: Record<string, string> = {
      BAZAAR_HOST: '127.0.0.1',
      BAZAAR_BUS_DATABASE_URL: cluster.url('bus'),
      BAZAAR_CHAOS: '1',
      BAZAAR_DATA_DIR: dataDir,
      BAZAAR_LOG_LEVEL: logLevel,
      BAZAAR_DEMO_MERCHANT_ID: demo.merchantId,
    };
    let registryUrls = [`http://127.0.0.1:${registryPort}`];
    const instances: InstanceInfo[] = [];
    for (const group of startGroups(table)) {
      const specs: InstanceSpec[] = [];
      for (const spec of group) {
        const count = replicas.get(spec.name) ?? spec.replicas;
        for (let i = 1; i <= count; i++) {
          const fixedPort =
            spec.name === 'registry' ? registryPort : spec.name === 'gateway' ? gatewayPort : 0;
          // Only the first instance takes the well-known port; others listen on a free one.
          const port = i === 1 ? fixedPort : 0;
          const env: Record<string, string> = {
            ...common,
            BAZAAR_PORT: String(port),
            BAZAAR_REGISTRY_URL: registryUrls.join(','),
            BAZAAR_SERVICE_CREDENTIAL: credentials[spec.name]!,
            ...(spec.database ? { BAZAAR_DATABASE_URL: cluster.url(spec.database) } : {}),
            ...(spec.name === 'registry' ? { BAZAAR_SERVICE_CREDENTIALS: hashes } : {}),
            ...options.env,
          };
          specs.push({
            slot: `${spec.name}-${i}`,
            service: spec.name,
            entry: entryPath(spec),
            env,
            stickyPort: spec.name === 'registry' || spec.name === 'gateway',
          });
        }
      }
      supervisor.start(specs);
      const ready = await abortable(
        Promise.all(specs.map((s) => supervisor!.waitReady(s.slot, readyTimeoutMs, { maxCrashes: 4 }))),
        options.signal,
      );
      instances.push(...ready);
      if (group.some((s) => s.name === 'registry')) {
        registryUrls = ready.filter((i) => i.service === 'registry').map((i) => `http://127.0.0.1:${i.port}`);
      }
    }

    const gateway = instances.find((i) => i.service === 'gateway');
    return {
      gatewayUrl: `http://127.0.0.1:${gateway?.port ?? gatewayPort}`,
      registryUrl: registryUrls[0]!,
      supervisor,
      cluster,
      credentials,
      dataDir,
      logDir,
      instances,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw startError((err as Error).message, err);
  }
}
