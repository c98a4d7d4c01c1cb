/**
 * Start: seconds from spawning `node packages/cli/src/main.ts up` (what `npm start` runs) to its
 * `Bazaar is ready` line, cold (a fresh data folder: initdb, databases, migrations, seed) and warm
 * (the same folder again); the time a SIGINT takes to stop it; and, warm and ready, the resident
 * memory of the whole system: `bazaar up` and every descendant, PostgreSQL's processes included.
 *
 * Settings (environment): BENCH_START_WARM_RUNS (1), BENCH_SETTLE seconds to wait after ready
 * before memory is read (2), BENCH_START_TIMEOUT seconds for one start (180).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type BenchResult,
  commandLine,
  descendants,
  envNumber,
  fmt,
  freePort,
  median,
  onCleanup,
  processKind,
  pssKiB,
  type Ratio,
  repoRoot,
  rssKiB,
  runAsProgram,
  sleep,
  table,
  tempDir,
} from './lib/common.ts';

const NAME = 'start';
const WARM_RUNS = Math.max(1, Math.round(envNumber('BENCH_START_WARM_RUNS', 1)));
const SETTLE = envNumber('BENCH_SETTLE', 2);
const START_TIMEOUT = envNumber('BENCH_START_TIMEOUT', 180);
const READY = 'Bazaar is ready';

interface Run {
  kind: 'cold' | 'warm';
  readySeconds: number;
  /** Seconds from spawn to milestones on stdout: the first service log line, each `<service> started`. */
  phases: Record<string, number>;
  stopSeconds: number;
  /** Processes left after `bazaar up` exited (killed by the benchmark). */
  leftBehind: string[];
  memory?: Memory;
}

interface Memory {
  processes: { pid: number; kind: string; rssMiB: number; pssMiB: number }[];
  byKind: Record<string, { count: number; rssMiB: number; pssMiB: number }>;
  totalRssMiB: number;
  totalPssMiB: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killTree(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function measureMemory(rootPid: number): Memory {
  const pids = [rootPid, ...descendants(rootPid)];
  const processes = pids
    .map((pid) => ({ pid, kind: processKind(pid), rssMiB: rssKiB(pid) / 1024, pssMiB: pssKiB(pid) / 1024 }))
    .filter((p) => p.rssMiB > 0);
  const byKind: Memory['byKind'] = {};
  for (const p of processes) {
    byKind[p.kind] ??= { count: 0, rssMiB: 0, pssMiB: 0 };
    const k = byKind[p.kind]!;
    k.count++;
    k.rssMiB += p.rssMiB;
    k.pssMiB += p.pssMiB;
  }
  return {
    processes,
    byKind,
    totalRssMiB: processes.reduce((s, p) => s + p.rssMiB, 0),
    totalPssMiB: processes.reduce((s, p) => s + p.pssMiB, 0),
  };
}

/** Starts `bazaar up`, waits for the ready line, optionally measures memory, stops it with SIGINT. */
async function startOnce(kind: Run['kind'], env: NodeJS.ProcessEnv, withMemory: boolean): Promise<Run> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'packages/cli/src/main.ts'), 'up'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let known: number[] = [];
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null) r();
    else child.once('exit', () => r());
  });
  // Whatever happens, nothing it started outlives the benchmark.
  onCleanup(`bazaar up ${pid}`, async () => {
    const tree = [...new Set([...descendants(pid), ...known])];
    if (alive(pid) && child.exitCode === null) {
      child.kill('SIGINT');
      await Promise.race([exited, sleep(30_000)]);
    }
    killTree([pid, ...tree].filter(alive));
  });
  const output: string[] = [];
  const phases: Record<string, number> = {};
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 40) output.shift();
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${READY}" within ${START_TIMEOUT} s:\n${output.join('\n')}`)),
      START_TIMEOUT * 1000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      const at = (performance.now() - started) / 1000;
      if (/│/.test(line)) phases['first service log line'] ??= at;
      const m = /\b([\w-]+) started url=/.exec(line);
      if (m) phases[`${m[1]} started`] = at;
      if (line.includes(READY)) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bazaar up exited with ${signal ?? code} before it was ready:\n${output.join('\n')}`));
    });
  });
  const readyAt = await ready;
  const readySeconds = (readyAt - started) / 1000;
  console.log(`${NAME}: ${kind}: ready after ${fmt(readySeconds, 2)} s`);
  let memory: Memory | undefined;
  if (withMemory) {
    await sleep(SETTLE * 1000);
    memory = measureMemory(pid);
  }
  known = descendants(pid);
  const stopAt = performance.now();
  child.kill('SIGINT');
  let stopTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    exited,
    new Promise((_, reject) => {
      stopTimer = setTimeout(() => reject(new Error('bazaar up did not exit within 60 s of SIGINT')), 60_000);
    }),
  ]).finally(() => clearTimeout(stopTimer));
  const stopSeconds = (performance.now() - stopAt) / 1000;
  // The database stops last and asynchronously at most; give stragglers a moment, then report them.
  await sleep(300);
  const left = known.filter(alive);
  const leftBehind = left.map((p) => `${processKind(p)} ${p} (${commandLine(p).slice(0, 60)})`);
  killTree(left);
  console.log(
    `${NAME}: ${kind}: stopped ${fmt(stopSeconds, 2)} s after SIGINT (exit ${child.exitCode ?? child.signalCode})${leftBehind.length > 0 ? `; LEFT BEHIND: ${leftBehind.join(', ')}` : ''}`,
  );
  return { kind, readySeconds, phases, stopSeconds, leftBehind, memory };
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  const dir = await tempDir('bazaar-bench-start-');
  onCleanup('remove the data folder', () => dir.remove());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BAZAAR_DATA_DIR: dir.path,
    BAZAAR_GATEWAY_PORT: String(await freePort()),
    BAZAAR_REGISTRY_PORT: String(await freePort()),
    NO_COLOR: '1',
  };
  for (const key of ['BAZAAR_PG_PORT', 'BAZAAR_DATABASE_URL', 'BAZAAR_PORT', 'NODE_OPTIONS']) delete env[key];
  console.log(`${NAME}: node packages/cli/src/main.ts up, data in ${dir.path} (fresh)`);

  const runs: Run[] = [await startOnce('cold', env, false)];
  for (let i = 0; i < WARM_RUNS; i++) runs.push(await startOnce('warm', env, i === WARM_RUNS - 1));
  const cold = runs[0]!;
  const warm = runs.filter((r) => r.kind === 'warm');
  const warmSeconds = median(warm.map((r) => r.readySeconds));
  const memory = warm.at(-1)!.memory!;

  console.log(`\n${NAME}: seconds from spawn to "${READY}" (and to milestones on its stdout)`);
  const milestones = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  console.log(
    table(
      ['start', ...milestones, 'ready', 'stop (SIGINT)', 'left behind'],
      runs.map((r) => [
        r.kind,
        ...milestones.map((m) => fmt(r.phases[m], 2)),
        fmt(r.readySeconds, 2),
        fmt(r.stopSeconds, 2),
        String(r.leftBehind.length),
      ]),
    ),
  );
  console.log(`\n${NAME}: resident memory, warm and ready (${SETTLE} s after the ready line)`);
  const kinds = Object.entries(memory.byKind).sort((a, b) => b[1].rssMiB - a[1].rssMiB);
  console.log(
    table(
      ['process kind', 'count', 'RSS MB', 'PSS MB'],
      [
        ...kinds.map(([kind, m]) => [kind, String(m.count), fmt(m.rssMiB, 1), fmt(m.pssMiB, 1)]),
        ['total', String(memory.processes.length), fmt(memory.totalRssMiB, 1), fmt(memory.totalPssMiB, 1)],
      ],
    ),
  );
  const ratios: Ratio[] = [
    { name: 'seconds to ready, cold', value: cold.readySeconds },
    { name: 'seconds to ready, warm', value: warmSeconds },
    { name: 'MB resident, whole system (sum of RSS)', value: memory.totalRssMiB },
    { name: 'MB proportional, whole system (sum of PSS)', value: memory.totalPssMiB },
  ];
  const leftBehind = runs.flatMap((r) => r.leftBehind);
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      warmRuns: WARM_RUNS,
      settleSeconds: SETTLE,
      logLevel: process.env.BAZAAR_LOG_LEVEL ?? 'info',
    },
    figures: {
      coldSeconds: cold.readySeconds,
      warmSeconds,
      runs: runs.map(({ memory: _m, ...r }) => r),
      memory,
    },
    ratios,
    notes: [
      'Timed from spawning node (not npm, which adds its own start-up) to the ready line on stdout.',
      'MB are MiB. RSS counts pages shared between processes (PostgreSQL shared buffers, code) once per process; PSS splits them between their sharers, so its total is the better "whole system" figure.',
      'Not pinned: nothing else of the benchmark runs meanwhile.',
      ...(leftBehind.length > 0 ? [`Processes left behind after SIGINT: ${leftBehind.join(', ')}`] : []),
    ],
  };
}

if (import.meta.main) {
  await runAsProgram(NAME, main, { timeLimitMs: (START_TIMEOUT + 120) * (WARM_RUNS + 1) * 1000 });
}
