/**
 * Load generator child: `node autocannon-worker.ts '<json>'` runs autocannon against one URL at a
 * fixed number of connections for a fixed time (after an optional unrecorded warm-up) and prints
 * one JSON line: throughput, latency percentiles (µs precision, from every response), errors, and
 * the CPU this process used. Optional: extra request headers (e.g. `authorization`), and a fixed
 * overall request rate instead of closed loops at full speed (latencies are then as measured, not
 * corrected for coordinated omission), and a list of paths to take in turn instead of one URL.
 * Started pinned by `taskset` by the benchmark.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHistogram } from 'node:perf_hooks';

interface Input {
  url: string;
  connections: number;
  seconds: number;
  warmupSeconds?: number;
  /** Sent with every request, besides `accept: application/json`. */
  headers?: Record<string, string>;
  /** Requests per second over all connections; absent or 0: as fast as the connections go. */
  overallRate?: number;
  /**
   * A JSON file holding an array of paths: each request (over all connections, warm-up included)
   * takes the next one, from `pathOffset` on, round and round, instead of the path of `url`.
   */
  pathsFile?: string;
  pathOffset?: number;
}

export interface AutocannonFigures {
  url: string;
  connections: number;
  seconds: number;
  responses: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** CPU used by this load generator while measuring, as a share of one core (0–1). */
  cpuShare: number;
  /** With `pathsFile`: the offset the next request would have taken. */
  nextPathOffset?: number;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (
  options: Record<string, unknown>,
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** The next path to request, when the input lists paths. */
let nextPath: (() => string) | undefined;
let pathsTaken = 0;

function run(
  input: Input,
  seconds: number,
  onResponse?: (status: number, ms: number) => void,
): Promise<AutocannonResult> {
  const take = nextPath;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: input.url,
        connections: input.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        // Not the default 'autocannon' agent string: some stacks treat it as a bot.
        headers: { accept: 'application/json', ...input.headers },
        ...(input.overallRate && input.overallRate > 0 ? { overallRate: input.overallRate } : {}),
        ...(take
          ? { requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: take() }) }] }
          : {}),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (onResponse) instance.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  });
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  if (!input.url || !input.connections || !input.seconds) throw new Error('url, connections, seconds needed');
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(input.url)) throw new Error('only 127.0.0.1 is a target');
  if (input.pathsFile) {
    const paths = JSON.parse(readFileSync(input.pathsFile, 'utf8')) as string[];
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => !p.startsWith('/'))) {
      throw new Error('pathsFile must hold a non-empty array of paths');
    }
    pathsTaken = input.pathOffset ?? 0;
    nextPath = () => paths[pathsTaken++ % paths.length]!;
  }
  if (input.warmupSeconds && input.warmupSeconds > 0) await run(input, input.warmupSeconds);

  const histogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  let responses = 0;
  let ok = 0;
  let sumMs = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await run(input, input.seconds, (status, ms) => {
    responses++;
    if (status >= 200 && status < 300) {
      ok++;
      sumMs += ms;
      histogram.record(Math.max(1, Math.round(ms * 1000)));
    }
  });
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const us = (p: number) => (ok > 0 ? histogram.percentile(p) / 1000 : Number.NaN);
  const figures: AutocannonFigures = {
    url: input.url,
    connections: input.connections,
    seconds: elapsedMs / 1000,
    responses,
    ok,
    non2xx: responses - ok,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: ok / (elapsedMs / 1000),
    p50Ms: us(50),
    p90Ms: us(90),
    p99Ms: us(99),
    maxMs: ok > 0 ? histogram.max / 1000 : Number.NaN,
    meanMs: ok > 0 ? sumMs / ok : Number.NaN,
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
    ...(nextPath ? { nextPathOffset: pathsTaken } : {}),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  process.exit(1);
});
