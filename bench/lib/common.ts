/**
 * Helpers shared by the benchmarks: settings from the environment, CPU pinning, the process tree
 * under a pid and what it costs (CPU, memory), clean-up on any exit, and plain-text tables.
 */

import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeDataDir } from '../../packages/cli/src/data-dir.ts';
import { findFreePort } from '../../packages/cli/src/free-port.ts';

/** The repository root (bench/lib/../..). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');
/** Where results go (ignored by git). */
export const resultsDir = join(repoRoot, '.bench');

/** One ratio a benchmark is judged by. */
export interface Ratio {
  name: string;
  value: number;
  /** e.g. `>= 0.8`; absent when the ratio has no goal. */
  goal?: string;
  met?: boolean;
}

/** What one benchmark hands back to `bench/run.ts` (and writes to `.bench/<name>.json`). */
export interface BenchResult {
  name: string;
  startedAt: string;
  seconds: number;
  /** Settings the figures were taken with. */
  settings: Record<string, unknown>;
  figures: Record<string, unknown>;
  ratios: Ratio[];
  notes: string[];
}

/** A number from the environment, or `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, at most `limit` at once, in order of start; rejects with the first failure. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
}

/** A TCP port free on 127.0.0.1 right now, outside the range outgoing connections take theirs from. */
export const freePort = (): Promise<number> => findFreePort();

/** A fresh temporary folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  // removeDataDir also removes an embedded cluster placed outside the folder (as root, temp
  // folders are 0700, so the cluster lives under /var/lib/bazaar); a plain rm would leave it.
  return { path, remove: async () => removeDataDir(path) };
}

// ---------------------------------------------------------------------------------------------
// Clean-up that runs on normal completion, on an error, and on SIGINT/SIGTERM.

type CleanupFn = () => Promise<void> | void;
const cleanups: { what: string; fn: CleanupFn }[] = [];
let cleaning: Promise<void> | undefined;

/** Registers clean-up work; runs last-registered first. */
export function onCleanup(what: string, fn: CleanupFn): void {
  cleanups.push({ what, fn });
}

/** Runs every registered clean-up once (later calls wait for the first). */
export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const { what, fn } = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`bench: clean-up "${what}" failed: ${(err as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

/**
 * Runs a benchmark's `main` as the program: pins this process first if asked, bounds it in time,
 * cleans up whatever it registered on success, failure or a signal, and writes its result to
 * `.bench/<name>.json` and, for `bench/run.ts`, to `BENCH_RESULT_FILE`.
 */
export async function runAsProgram(
  name: string,
  main: () => Promise<BenchResult>,
  { timeLimitMs }: { timeLimitMs: number },
): Promise<void> {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    process.stderr.write(`\nbench ${name}: ${signal}: cleaning up\n`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const limit = setTimeout(() => {
    process.stderr.write(`\nbench ${name}: over its time limit of ${timeLimitMs / 1000} s: cleaning up\n`);
    void runCleanups().finally(() => process.exit(124));
  }, timeLimitMs);
  limit.unref();
  let code = 0;
  try {
    const result = await main();
    await runCleanups();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(resultsDir, { recursive: true });
    const text = `${JSON.stringify(result, null, 2)}\n`;
    writeFileSync(join(resultsDir, `${name}.json`), text);
    if (process.env.BENCH_RESULT_FILE) writeFileSync(process.env.BENCH_RESULT_FILE, text);
    printRatios(result);
  } catch (err) {
    process.stderr.write(`bench ${name} failed: ${(err as Error).stack ?? err}\n`);
    await runCleanups();
    code = 1;
  }
  clearTimeout(limit);
  process.exit(code);
}

/** Prints the ratios a result is judged by. */
export function printRatios(result: BenchResult): void {
  if (result.ratios.length === 0) return;
  console.log(`\n${result.name}: ratios judged by`);
  console.log(
    table(
      ['ratio', 'value', 'goal', 'met'],
      result.ratios.map((r) => [
        r.name,
        fmt(r.value, 3),
        r.goal ?? '',
        r.met === undefined ? '' : r.met ? 'yes' : 'NO',
      ]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// CPU pinning and the process tree.

/** Pins every thread of `pid` to `cpus` (taskset list, e.g. `0`); false when it could not. */
export function pin(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `Cpus_allowed_list` of a process, or undefined when it is gone. */
export function allowedCpus(pid: number): string | undefined {
  return statusField(pid, 'Cpus_allowed_list');
}

function statusField(pid: number, field: string): string | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
    return line?.slice(field.length + 1).trim();
  } catch {
    return undefined;
  }
}

/** Every descendant of `pid` (children of all its threads, recursively). */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${current}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        if (!found.includes(child)) {
          found.push(child);
          queue.push(child);
        }
      }
    }
  }
  return found;
}

/** The command line of a process, spaces between arguments ('' when it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** A short name for what a process is: `gateway`, `catalog`, `postgres`, `bazaar up`, ... */
export function processKind(pid: number): string {
  const cmd = commandLine(pid);
  const service = /services\/([\w-]+)\/src\/main\.ts/.exec(cmd);
  if (service) return service[1]!;
  if (/cli\/src\/main\.ts up/.test(cmd)) return 'bazaar up';
  if (/(^|\/)postgres(\s|$)/.test(cmd) && /\s-D\s/.test(cmd)) return 'postgres (postmaster)';
  if (/^postgres:/.test(cmd)) return 'postgres (backends, helpers)';
  if (/bare-proxy\.ts/.test(cmd)) return 'bare proxy';
  if (/-worker\.ts/.test(cmd)) return 'load generator';
  return cmd.split(' ')[0]?.split('/').at(-1) ?? '?';
}

/** Resident memory of a process in KiB (VmRSS), 0 when it is gone. */
export function rssKiB(pid: number): number {
  return Number.parseInt(statusField(pid, 'VmRSS') ?? '0', 10) || 0;
}

/** Proportional set size of a process in KiB (shared pages split between sharers), 0 when unknown. */
export function pssKiB(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('Pss:'));
    return Number.parseInt(line?.split(/\s+/)[1] ?? '0', 10) || 0;
  } catch {
    return 0;
  }
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process has used so far, in ms (user + system), 0 when it is gone. */
export function processCpuMs(pid: number): number {
  const { user, system } = processCpuSplitMs(pid);
  return user + system;
}

/** User and system (kernel) CPU time a process has used so far, in ms; zeros when it is gone. */
export function processCpuSplitMs(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    return {
      user: (Number(fields[11]) * 1000) / TICKS_PER_SECOND,
      system: (Number(fields[12]) * 1000) / TICKS_PER_SECOND,
    };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** Busy and total jiffies of each CPU, from /proc/stat. */
export function cpuSnapshot(): { busy: number; total: number }[] {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const cpus: { busy: number; total: number }[] = [];
  for (const line of lines) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    cpus[Number(m[1])] = { busy: total - idle, total };
  }
  return cpus;
}

/** Busy share (0–1) of each CPU between two snapshots. */
export function cpuBusy(before: { busy: number; total: number }[], after: { busy: number; total: number }[]) {
  return after.map((a, i) => {
    const b = before[i] ?? { busy: 0, total: 0 };
    const total = a.total - b.total;
    return total > 0 ? (a.busy - b.busy) / total : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Worker child processes (load generators), pinned with taskset.

/**
 * Runs `node <script> <json input>` under `taskset -c <cpus>` and resolves with the JSON object it
 * prints as its last stdout line. Killed after `timeoutMs`.
 */
export function runWorker<T>(
  script: string,
  input: unknown,
  { cpus, timeoutMs, onLine }: { cpus: string; timeoutMs: number; onLine?: (line: string) => void },
): Promise<T> {
  return new Promise<T>((resolveResult, reject) => {
    const child = spawn('taskset', ['-c', cpus, process.execPath, script, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = child.pid;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    onCleanup(`worker ${pid}`, kill);
    let out = '';
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!onLine) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`${script} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) {
        reject(new Error(`${script} exited with ${signal ?? code}: ${last.slice(0, 500)}`));
        return;
      }
      try {
        resolveResult(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${last.slice(0, 500)}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Numbers and tables.

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A number with `digits` decimals ('–' for NaN/undefined). */
export function fmt(value: number | null | undefined, digits = 1): string {
  // A NaN that crossed a worker's JSON arrives as null.
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  return value.toFixed(digits);
}

/** A plain table: header, separator, rows; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[-+]?[\d.,%×() ]*$|^–$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
