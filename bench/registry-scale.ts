/**
 * Registry scale: how many instances, heartbeating at the default period (2 s), one registry process
 * sustains (QUALITY.md: "instances at < 50 % of one core"). The registry runs alone on the embedded
 * PostgreSQL, both on CPU 0; a load generator on CPU 1 plays the instances as the kit's
 * `Registration` does (register, then a heartbeat 2 s after the last one ended, carrying the applied
 * config), spread over ten services, with a few watch streams open. The instances grow in steps; at
 * each step the registry process's CPU, its database's (the backends serving it), the heartbeat
 * latency and any heartbeat that came later than a lease (an instance the sweep may evict) are
 * measured over one window.
 *
 * Figures: per step, the registry's share of one core; the largest step at which it stayed under
 * 50 %; and the instance count at which a straight line through the steps (a fixed cost plus a cost
 * per instance) reaches 50 %.
 *
 * Settings (environment): BENCH_REGISTRY_STEPS (500,1000,2000,4000,8000), BENCH_REGISTRY_SECONDS
 * window per step (10), BENCH_WARMUP seconds before each window (5), BENCH_REGISTRY_WATCHERS (16).
 */
import { join } from 'node:path';
import { credentialHashes, loadOrCreateServiceCredentials } from '../packages/cli/src/credentials.ts';
import { services } from '../packages/cli/src/services.ts';
import {
  type BenchResult,
  commandLine,
  descendants,
  envNumber,
  fmt,
  processCpuMs,
  type Ratio,
  runAsProgram,
  runWorker,
  table,
} from './lib/common.ts';
import type { HeartbeatSummary, StepFigures } from './lib/heartbeat-worker.ts';
import { describePins, LOAD_CPU, startBenchSystem } from './lib/system.ts';

const NAME = 'registry-scale';
const STEPS = (process.env.BENCH_REGISTRY_STEPS ?? '500,1000,2000,4000,8000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 20_000)
  .sort((a, b) => a - b);
const SECONDS = envNumber('BENCH_REGISTRY_SECONDS', 10);
const WARMUP = envNumber('BENCH_WARMUP', 5);
const WATCHERS = envNumber('BENCH_REGISTRY_WATCHERS', 16);
const HEARTBEAT_MS = 2_000;
/** The services the simulated instances belong to; each has its own credential. */
const SIM_SERVICES = Array.from({ length: 10 }, (_, i) => `sim-${i}`);
/** The share of one core the registry must stay under (QUALITY.md). */
const LIMIT = 0.5;

interface Step extends StepFigures {
  registryShare: number;
  databaseShare: number;
  /** Registry CPU per heartbeat, µs (fixed costs included). */
  registryUsPerBeat: number;
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  if (STEPS.length === 0) throw new Error('BENCH_REGISTRY_STEPS names no step');
  let credentials: Record<string, string> = {};
  const registryOnly = services.filter((s) => s.name === 'registry');
  const { system, pinAll } = await startBenchSystem({
    services: registryOnly,
    prepare: (dataDir) => {
      // The registry's own credential and one per simulated service, all known to the registry.
      credentials = loadOrCreateServiceCredentials(dataDir, ['registry', ...SIM_SERVICES]);
      return { BAZAAR_SERVICE_CREDENTIALS: JSON.stringify(credentialHashes(credentials)) };
    },
  });
  const pins = pinAll();
  console.log(`${NAME}: ${describePins(pins)}; load generator on CPU ${LOAD_CPU}`);
  const registryPid = system.supervisor.info('registry-1').pid!;
  const databaseCpu = () => {
    let ms = 0;
    for (const pid of descendants(system.cluster.pid)) {
      if (/^postgres: \S+ registry /.test(commandLine(pid))) ms += processCpuMs(pid);
    }
    return ms;
  };

  const steps: Step[] = [];
  let mark: { at: number; registry: number; database: number } | undefined;
  const simCredentials = Object.fromEntries(SIM_SERVICES.map((s) => [s, credentials[s]!]));
  const summary = await runWorker<HeartbeatSummary>(
    join(import.meta.dirname, 'lib', 'heartbeat-worker.ts'),
    {
      registryUrl: system.registryUrl,
      credentials: simCredentials,
      steps: STEPS,
      heartbeatMs: HEARTBEAT_MS,
      warmSeconds: WARMUP,
      measureSeconds: SECONDS,
      watchers: WATCHERS,
      connections: 128,
    },
    {
      cpus: LOAD_CPU,
      timeoutMs: STEPS.length * (SECONDS + WARMUP + 60) * 1000 + 60_000,
      onLine: (line) => {
        if (line.startsWith('measure ')) {
          mark = { at: performance.now(), registry: processCpuMs(registryPid), database: databaseCpu() };
        } else if (line.startsWith('measured ') && mark) {
          const figures = JSON.parse(line.slice('measured '.length)) as StepFigures;
          const elapsedMs = performance.now() - mark.at;
          const registryMs = processCpuMs(registryPid) - mark.registry;
          const step: Step = {
            ...figures,
            registryShare: registryMs / elapsedMs,
            databaseShare: (databaseCpu() - mark.database) / elapsedMs,
            registryUsPerBeat: (registryMs * 1000) / Math.max(1, figures.heartbeats),
          };
          steps.push(step);
          console.log(
            `${NAME}: ${step.instances} instances: ${fmt(step.perSecond, 0)} heartbeats/s, registry ${fmt(step.registryShare * 100, 1)} % of a core, its database ${fmt(step.databaseShare * 100, 1)} %, p99 ${fmt(step.p99Ms, 1)} ms`,
          );
        }
      },
    },
  );

  // A fixed cost plus a cost per instance, fitted by least squares over the steps.
  const n = steps.length;
  const mx = steps.reduce((a, s) => a + s.instances, 0) / n;
  const my = steps.reduce((a, s) => a + s.registryShare, 0) / n;
  const sxx = steps.reduce((a, s) => a + (s.instances - mx) ** 2, 0);
  const slope =
    sxx > 0 ? steps.reduce((a, s) => a + (s.instances - mx) * (s.registryShare - my), 0) / sxx : 0;
  const fixed = my - slope * mx;
  const fitted = slope > 0 ? (LIMIT - fixed) / slope : Number.POSITIVE_INFINITY;
  const healthy = (s: Step) => s.failed === 0 && s.lateBeyondLease === 0;
  const underLimit = steps.filter((s) => s.registryShare < LIMIT && healthy(s)).at(-1);

  console.log(`\n${NAME}: ${WATCHERS} watch streams open; heartbeat every ${HEARTBEAT_MS} ms after the last`);
  console.log(
    table(
      [
        'instances',
        'beats/s',
        'registry % core',
        'database % core',
        'µs/beat',
        'p50 ms',
        'p99 ms',
        'max ms',
        '404',
        'failed',
        'late',
      ],
      steps.map((s) => [
        String(s.instances),
        fmt(s.perSecond, 0),
        fmt(s.registryShare * 100, 1),
        fmt(s.databaseShare * 100, 1),
        fmt(s.registryUsPerBeat, 0),
        fmt(s.p50Ms, 2),
        fmt(s.p99Ms, 1),
        fmt(s.maxMs, 1),
        String(s.notFound),
        String(s.failed),
        String(s.lateBeyondLease),
      ]),
    ),
  );
  const ratios: Ratio[] = [
    { name: 'instances sustained at < 50 % of one core (largest step)', value: underLimit?.instances ?? 0 },
    { name: 'instances at 50 % of one core (fixed + per-instance fit)', value: Math.round(fitted) },
    { name: 'registry CPU per instance, µs/s (fit)', value: slope * 1e6 },
  ];
  const notes = [
    `The registry process alone is measured (its database's backends are shown beside it); both have CPU 0, and nothing else of Bazaar runs.`,
    `Instances: ${SIM_SERVICES.length} services, one credential each; ${WATCHERS} watch streams open throughout (watch events seen: ${summary.watchEvents}); ${summary.deregistered} instances deregistered at the end.`,
    '"late" counts heartbeats that came more than a lease (6 s) after the instance\'s last renewal: an instance the sweep could have evicted.',
    `Fit: ${fmt(fixed * 100, 2)} % of a core fixed, ${fmt(slope * 1e6, 1)} µs of CPU per second per instance.`,
  ];
  for (const note of notes) console.log(`${NAME}: ${note}`);
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      steps: STEPS,
      seconds: SECONDS,
      warmup: WARMUP,
      watchers: WATCHERS,
      heartbeatMs: HEARTBEAT_MS,
    },
    figures: { steps, fit: { fixedShare: fixed, sharePerInstance: slope } },
    ratios,
    notes,
  };
}

await runAsProgram(NAME, main, { timeLimitMs: 900_000 });
