/**
 * Side-by-side rounds for a benchmark: what CPU a window of work used (both cores, and each kind
 * of our own process), setups alternated round by round so that drift on this shared machine falls
 * on all of them alike, per-round ratios of one setup to another, and waiting for the system to go
 * quiet between windows.
 */
import {
  commandLine,
  cpuBusy,
  cpuSnapshot,
  descendants,
  median,
  processCpuMs,
  processKind,
  sleep,
} from './common.ts';

/** CPU used over one window of work. */
export interface Usage {
  elapsedMs: number;
  /** Busy share (0–1) of CPU 0 (the system) and CPU 1 (the load generator). */
  cpu0: number;
  cpu1: number;
  /** Share of CPU 0 used by processes that are not ours (other work on this shared machine). */
  cpu0Others: number;
  /** CPU time of each kind of our own process (`gateway`, `orders`, `postgres`, ...) over the window, ms. */
  cpuMs: Record<string, number>;
  /** The sum of `cpuMs`. */
  oursMs: number;
}

/** How CPU time is grouped: PostgreSQL as one, or its backends by database (and its helpers apart). */
export interface Grouping {
  postgresByDatabase?: boolean;
}

// A backend's title: `postgres: [cluster: ]<user> <database> <client address>(<port>) <state>`.
const BACKEND_TITLE = /^postgres: (?:[^:\s]+: )?\S+ (\S+) (?:[\d.:[\]a-f]+\(\d+\)|\[local\])/;

function groupOf(pid: number, { postgresByDatabase = false }: Grouping): string {
  const kind = processKind(pid);
  if (!kind.startsWith('postgres')) return kind;
  if (!postgresByDatabase) return 'postgres';
  const backend = BACKEND_TITLE.exec(commandLine(pid));
  return backend ? `postgres: ${backend[1]} db` : 'postgres (helpers)';
}

/** CPU time used so far by each kind of process under this one, load generators left out. */
export function cpuByKind(grouping: Grouping = {}): Record<string, number> {
  const byKind: Record<string, number> = {};
  for (const pid of [process.pid, ...descendants(process.pid)]) {
    const kind = groupOf(pid, grouping);
    if (kind === 'load generator' || kind === 'taskset') continue;
    byKind[kind] = (byKind[kind] ?? 0) + processCpuMs(pid);
  }
  return byKind;
}

/**
 * Runs `work` and answers what it returned with the CPU used meanwhile. Processes that start and
 * end inside the window (a short-lived database backend) are not seen: their time counts as others'.
 */
export async function withUsage<T>(
  work: () => Promise<T>,
  grouping: Grouping = {},
): Promise<{ result: T; usage: Usage }> {
  const before = { cpu: cpuSnapshot(), kinds: cpuByKind(grouping), at: performance.now() };
  const result = await work();
  const busy = cpuBusy(before.cpu, cpuSnapshot());
  const elapsedMs = performance.now() - before.at;
  const cpuMs: Record<string, number> = {};
  for (const [kind, ms] of Object.entries(cpuByKind(grouping))) {
    cpuMs[kind] = Math.max(0, ms - (before.kinds[kind] ?? 0));
  }
  const oursMs = Object.values(cpuMs).reduce((a, b) => a + b, 0);
  return {
    result,
    usage: {
      elapsedMs,
      cpu0: busy[0] ?? Number.NaN,
      cpu1: busy[1] ?? Number.NaN,
      cpu0Others: Math.max(0, (busy[0] ?? 0) - oursMs / elapsedMs),
      cpuMs,
      oursMs,
    },
  };
}

/** One setup's measurement in one round. */
export interface RoundResult<S extends string, M> {
  setup: S;
  round: number;
  m: M;
}

/**
 * Measures every setup once per round, `rounds` times; the order rotates each round (A B, then
 * B A, ...), so neither setup always follows the other. `report` sees each measurement as it ends.
 */
export async function alternate<S extends string, M>({
  setups,
  rounds,
  measure,
  report,
}: {
  setups: readonly S[];
  rounds: number;
  measure: (setup: S, round: number) => Promise<M>;
  report?: (result: RoundResult<S, M>) => void;
}): Promise<RoundResult<S, M>[]> {
  const results: RoundResult<S, M>[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = setups.map((_, i) => setups[(i + round - 1) % setups.length]!);
    for (const setup of order) {
      const result = { setup, round, m: await measure(setup, round) };
      results.push(result);
      report?.(result);
    }
  }
  return results;
}

/** The median over rounds of `f` of one setup's measurements. */
export function medianOf<S extends string, M>(
  results: RoundResult<S, M>[],
  setup: S,
  f: (m: M) => number,
): number {
  return median(results.filter((r) => r.setup === setup).map((r) => f(r.m)));
}

/** Per round, `f(a) ÷ f(b)` of the two setups measured side by side (rounds missing either are skipped). */
export function roundRatios<S extends string, M>(
  results: RoundResult<S, M>[],
  a: S,
  b: S,
  f: (m: M) => number,
): number[] {
  const rounds = [...new Set(results.map((r) => r.round))];
  return rounds.flatMap((round) => {
    const x = results.find((r) => r.setup === a && r.round === round);
    const y = results.find((r) => r.setup === b && r.round === round);
    return x && y ? [f(x.m) / f(y.m)] : [];
  });
}

/**
 * Waits until our own processes use less than `share` of one core over `windowMs` (work a setup
 * left behind, such as events still being delivered, must not fall into the next setup's window);
 * gives up after `maxMs`. Answers the time waited, ms.
 */
export async function settle({ share = 0.15, windowMs = 500, maxMs = 15_000 } = {}): Promise<number> {
  const started = performance.now();
  const ours = () => Object.values(cpuByKind()).reduce((a, b) => a + b, 0);
  for (;;) {
    const before = ours();
    await sleep(windowMs);
    const used = (ours() - before) / windowMs;
    const waited = performance.now() - started;
    if (used < share || waited >= maxMs) return waited;
  }
}
