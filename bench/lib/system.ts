/**
 * The embedded Bazaar system for a benchmark: in a temporary data folder, on free ports, with the
 * access log off, every process of it on CPU 0 (the load generator gets CPU 1), stopped and removed
 * by the benchmark's clean-up whatever happens.
 */
import type { ServiceSpec } from '../../packages/cli/src/services.ts';
import { type System, startSystem } from '../../packages/cli/src/system.ts';
import {
  allowedCpus,
  descendants,
  freePort,
  onCleanup,
  pin,
  processCpuMs,
  processKind,
  tempDir,
} from './common.ts';

/** The CPU the system runs on, and the one the load generator runs on. */
export const SYSTEM_CPU = '0';
export const LOAD_CPU = '1';
/** Log level of every service during benchmarks: `warn` turns the per-request access log off. */
export const BENCH_LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';

export interface BenchSystem {
  system: System;
  /** Pins every process under this one except load generators to CPU 0; what it found. */
  pinAll(): PinReport;
}

export interface PinReport {
  /** Processes on CPU 0 only, by kind. */
  pinned: Record<string, number>;
  /** Processes that could not be pinned (kind: pid). */
  failed: string[];
}

/**
 * Pins this process (so that every child it starts inherits CPU 0), then starts the system.
 * Its clean-up (stop, remove the data folder) is registered before it starts.
 */
export async function startBenchSystem(
  options: {
    replicas?: Record<string, number>;
    env?: Record<string, string>;
    serviceEnv?: Record<string, Record<string, string>>;
    postgresSettings?: Record<string, string>;
    /** The services to run instead of the whole shop. */
    services?: readonly ServiceSpec[];
    /** Runs in the new data folder before the start; the environment it answers joins `env`. */
    prepare?: (dataDir: string) => Record<string, string>;
  } = {},
) {
  if (!pin(process.pid, SYSTEM_CPU)) {
    process.stderr.write('bench: taskset could not pin this process; figures are unpinned\n');
  }
  const dir = await tempDir('bazaar-bench-');
  let system: System | undefined;
  onCleanup('remove the data folder', () => dir.remove());
  onCleanup('stop the system', async () => {
    if (system) await system.stop();
  });
  const prepared = options.prepare?.(dir.path) ?? {};
  system = await startSystem({
    dataDir: dir.path,
    services: options.services,
    gatewayPort: await freePort(),
    registryPort: await freePort(),
    quiet: true,
    logLevel: BENCH_LOG_LEVEL,
    replicas: options.replicas,
    postgresSettings: options.postgresSettings,
    // A benchmark's load comes from one address: the gateway's per-address and per-user limits
    // would measure themselves, not the hop.
    env: {
      BAZAAR_RATE_LIMIT_PER_IP: 'off',
      BAZAAR_RATE_LIMIT_PER_USER: 'off',
      ...options.env,
      ...prepared,
    },
    serviceEnv: options.serviceEnv,
  });
  const started = system;
  const pinAll = (): PinReport => {
    const report: PinReport = { pinned: {}, failed: [] };
    for (const pid of descendants(process.pid)) {
      const kind = processKind(pid);
      if (kind === 'load generator' || kind === 'taskset') continue;
      if (allowedCpus(pid) !== SYSTEM_CPU) pin(pid, SYSTEM_CPU);
      if (allowedCpus(pid) === SYSTEM_CPU) report.pinned[kind] = (report.pinned[kind] ?? 0) + 1;
      else if (allowedCpus(pid) !== undefined) report.failed.push(`${kind}: ${pid}`);
    }
    return report;
  };
  return { system: started, pinAll } satisfies BenchSystem;
}

/** The id of one product, asked of `baseUrl` (a catalog instance or the gateway). */
export async function someProductId(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/products?limit=1`);
  if (res.status !== 200) throw new Error(`GET /api/products?limit=1 answered ${res.status}`);
  const page = (await res.json()) as { items: { id: string }[] };
  const id = page.items[0]?.id;
  if (!id) throw new Error('the catalog has no product');
  return id;
}

/** Describes a pin report in one line. */
export function describePins(report: PinReport): string {
  const kinds = Object.entries(report.pinned)
    .map(([kind, n]) => `${kind} ×${n}`)
    .join(', ');
  return `on CPU ${SYSTEM_CPU}: ${kinds}${report.failed.length > 0 ? `; NOT pinned: ${report.failed.join(', ')}` : ''}`;
}

/**
 * The processes of one system now: its PostgreSQL cluster and service instances, with everything
 * under them (database backends). Several systems started by one benchmark are told apart by it.
 */
export function systemPids(system: System): number[] {
  const roots = [
    system.cluster.pid,
    ...system.supervisor.slots().flatMap((slot) => system.supervisor.pid(slot) ?? []),
  ];
  return roots.flatMap((pid) => [pid, ...descendants(pid)]);
}

/** CPU time used so far by each process of one system, ms, by pid. */
export function systemCpu(system: System): Map<number, number> {
  return new Map(systemPids(system).map((pid) => [pid, processCpuMs(pid)]));
}

/**
 * CPU time one system's processes used between two `systemCpu` readings, ms: each process's own
 * difference, and all of a process that began in between. A process that ended in between (a
 * database connection closed) is left out, rather than taking its whole life's time off the sum.
 */
export function cpuUsedBetween(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, ms] of after) used += Math.max(0, ms - (before.get(pid) ?? 0));
  return used;
}

/** Pins every process of one system to `cpus` (database backends started later inherit it). */
export function pinSystem(system: System, cpus: string): void {
  for (const pid of systemPids(system)) pin(pid, cpus);
}
