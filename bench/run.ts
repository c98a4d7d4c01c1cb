/**
 * `npm run bench [-- name ...]`: runs every benchmark (or those named) one after another, each in
 * its own process, prints each one's figures and the ratios it is judged by, and writes them all to
 * `.bench/latest.json` (each also writes `.bench/<name>.json`).
 *
 * Benchmarks: gateway-hop, auth-cost, login, failover, start, checkout (confirmed orders/s against
 * single-row INSERTs/s on the same cluster), catalog-read (cached product reads against reads that
 * miss the cache), telemetry (reads and checkouts with telemetry on against off), registry-scale
 * (instances heartbeating at the default period that one registry process sustains). Not run by default: gateway-profile (CPU profiles of the gateway and the bare
 * proxy under load; see bench/gateway-hop.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchResult, fmt, resultsDir, table } from './lib/common.ts';

interface Entry {
  file: string;
  env?: Record<string, string>;
  /** Run when no name is given. */
  byDefault: boolean;
  /** Upper bound of one run, s (the benchmark bounds itself too). */
  limitSeconds: number;
}

const BENCHMARKS: Record<string, Entry> = {
  'gateway-hop': { file: 'gateway-hop.ts', byDefault: true, limitSeconds: 900 },
  'auth-cost': { file: 'auth-cost.ts', byDefault: true, limitSeconds: 900 },
  login: { file: 'login.ts', byDefault: true, limitSeconds: 600 },
  failover: { file: 'failover.ts', byDefault: true, limitSeconds: 600 },
  start: { file: 'start.ts', byDefault: true, limitSeconds: 900 },
  checkout: { file: 'checkout.ts', byDefault: true, limitSeconds: 600 },
  'catalog-read': { file: 'catalog-read.ts', byDefault: true, limitSeconds: 600 },
  telemetry: { file: 'telemetry.ts', byDefault: true, limitSeconds: 1200 },
  'registry-scale': { file: 'registry-scale.ts', byDefault: true, limitSeconds: 900 },
  'gateway-profile': {
    file: 'gateway-hop.ts',
    env: { BENCH_PROFILE: '1' },
    byDefault: false,
    limitSeconds: 600,
  },
};

let current: ReturnType<typeof spawn> | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The benchmark hears it too (same process group on a terminal) and cleans up; make sure.
    interrupted = true;
    current?.kill(signal);
  });
}

function runOne(name: string, entry: Entry, resultFile: string): Promise<number | string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, entry.file)], {
      env: { ...process.env, ...entry.env, BENCH_RESULT_FILE: resultFile },
      stdio: 'inherit',
    });
    current = child;
    const limit = setTimeout(() => {
      process.stderr.write(`bench: ${name} is over ${entry.limitSeconds} s: stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    }, entry.limitSeconds * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      current = undefined;
      resolve(signal ?? code ?? 1);
    });
  });
}

async function main(): Promise<number> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(BENCHMARKS).join(', ')})\n`,
    );
    return 2;
  }
  const names = asked.length > 0 ? asked : Object.keys(BENCHMARKS).filter((n) => BENCHMARKS[n]!.byDefault);
  const startedAt = new Date();
  const results: BenchResult[] = [];
  const failed: { name: string; exit: number | string }[] = [];
  for (const name of names) {
    if (interrupted) break;
    console.log(`\n=== ${name} ${'='.repeat(Math.max(0, 70 - name.length))}`);
    const resultFile = join(tmpdir(), `bazaar-bench-${process.pid}-${name}.json`);
    rmSync(resultFile, { force: true });
    const exit = await runOne(name, BENCHMARKS[name]!, resultFile);
    try {
      if (exit !== 0) throw new Error('failed');
      results.push(JSON.parse(readFileSync(resultFile, 'utf8')) as BenchResult);
    } catch {
      failed.push({ name, exit });
    }
    rmSync(resultFile, { force: true });
  }

  console.log(`\n=== summary ${'='.repeat(62)}`);
  const rows = results.flatMap((r) =>
    r.ratios.map((x) => [
      r.name,
      x.name,
      fmt(x.value, 3),
      x.goal ?? '',
      x.met === undefined ? '' : x.met ? 'yes' : 'NO',
    ]),
  );
  if (rows.length > 0) console.log(table(['benchmark', 'figure / ratio', 'value', 'goal', 'met'], rows));
  for (const f of failed) console.log(`${f.name}: FAILED (exit ${f.exit})`);
  for (const r of results) for (const note of r.notes) console.log(`${r.name}: ${note}`);

  mkdirSync(resultsDir, { recursive: true });
  const summary = {
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: { cpus: cpus().length, loadavgAtEnd: loadavg(), node: process.version },
    benchmarks: names,
    failed,
    results,
  };
  const out = join(resultsDir, 'latest.json');
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
  return failed.length > 0 || interrupted ? 1 : 0;
}

process.exitCode = await main();
