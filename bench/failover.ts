/**
 * Failover: steady reads through the gateway while one of the two catalog instances is killed
 * with SIGKILL. Reports failed reads (non-200 or transport errors), the seconds from the first to
 * the last failure, the worst latency during the disturbance, and throughput before, during and
 * after. Goal: no failed read.
 *
 * The system runs on CPU 0; the load loop (undici, closed loops) runs in its own process on CPU 1.
 * Settings (environment): BENCH_FAILOVER_SECONDS (20), BENCH_KILL_AT seconds (5),
 * BENCH_FAILOVER_CONNECTIONS (8), BENCH_DISTURBANCE seconds after the kill counted as "during" (5),
 * BENCH_WARMUP seconds of the same load before, not recorded (3), BENCH_LOG_LEVEL (warn).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BenchResult,
  envNumber,
  fmt,
  onCleanup,
  type Ratio,
  runAsProgram,
  runWorker,
  table,
  tempDir,
} from './lib/common.ts';
import type { ReadLoopOutput, RequestRecord } from './lib/read-loop-worker.ts';
import { BENCH_LOG_LEVEL, describePins, LOAD_CPU, someProductId, startBenchSystem } from './lib/system.ts';

const NAME = 'failover';
const SECONDS = envNumber('BENCH_FAILOVER_SECONDS', 20);
const KILL_AT = envNumber('BENCH_KILL_AT', 5);
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_FAILOVER_CONNECTIONS', 8)));
const DISTURBANCE = envNumber('BENCH_DISTURBANCE', 5);
const WARMUP = envNumber('BENCH_WARMUP', 3);
const VICTIM = 'catalog-1';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Requests that ended in [fromMs, toMs) (ms since the loops began). */
function window(records: RequestRecord[], fromMs: number, toMs: number) {
  const inside = records.filter((r) => r[0] + r[1] >= fromMs && r[0] + r[1] < toMs);
  const ok = inside.filter((r) => r[2] === 200);
  const latencies = ok.map((r) => r[1]).sort((a, b) => a - b);
  const seconds = Math.max(0.001, (toMs - fromMs) / 1000);
  return {
    from: fromMs / 1000,
    to: toMs / 1000,
    requests: inside.length,
    failed: inside.length - ok.length,
    rps: ok.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: inside.reduce((m, r) => Math.max(m, r[1]), 0),
  };
}

async function main(): Promise<BenchResult> {
  if (KILL_AT + 1 >= SECONDS) throw new Error('BENCH_KILL_AT must be at least 1 s before the end');
  const startedAt = new Date();
  console.log(`${NAME}: starting the system (catalog ×2, log level ${BENCH_LOG_LEVEL})…`);
  const { system, pinAll } = await startBenchSystem({ replicas: { catalog: 2 } });
  const id = await someProductId(system.gatewayUrl);
  const path = `/api/products/${id}`;
  const pins = pinAll();
  console.log(`${NAME}: ${describePins(pins)}; load loop on CPU ${LOAD_CPU}`);
  const victim = system.supervisor.info(VICTIM);
  const survivor = system.supervisor.info('catalog-2');
  console.log(
    `${NAME}: GET ${path} through the gateway, ${CONNECTIONS} connections for ${SECONDS} s; SIGKILL ${VICTIM} (pid ${victim.pid}) at ${KILL_AT} s`,
  );

  const scratch = await tempDir('bazaar-bench-failover-');
  onCleanup('remove the scratch folder', () => scratch.remove());
  const out = join(scratch.path, 'records.json');

  if (WARMUP > 0) {
    console.log(`${NAME}: warming up for ${WARMUP} s…`);
    await runWorker<ReadLoopOutput>(
      join(import.meta.dirname, 'lib', 'read-loop-worker.ts'),
      { url: `${system.gatewayUrl}${path}`, connections: CONNECTIONS, seconds: WARMUP, out },
      { cpus: LOAD_CPU, timeoutMs: (WARMUP + 60) * 1000 },
    );
  }

  let killAtEpoch = 0;
  let restartedAtEpoch = 0;
  let restarted: ReturnType<typeof system.supervisor.info> | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  onCleanup('stop the timers', () => {
    clearTimeout(killTimer);
    clearInterval(poll);
  });
  const result = await runWorker<ReadLoopOutput>(
    join(import.meta.dirname, 'lib', 'read-loop-worker.ts'),
    { url: `${system.gatewayUrl}${path}`, connections: CONNECTIONS, seconds: SECONDS, out },
    {
      cpus: LOAD_CPU,
      timeoutMs: (SECONDS + 60) * 1000,
      onLine: (line) => {
        const m = /^started ([\d.]+)$/.exec(line);
        if (!m) return;
        const t0 = Number(m[1]);
        killTimer = setTimeout(
          () => {
            killAtEpoch = performance.timeOrigin + performance.now();
            process.kill(victim.pid!, 'SIGKILL');
            poll = setInterval(() => {
              const now = system.supervisor.info(VICTIM);
              if (!restarted && now.state === 'ready' && now.pid !== victim.pid) {
                restarted = now;
                restartedAtEpoch = performance.timeOrigin + performance.now();
                clearInterval(poll);
              }
            }, 50);
          },
          Math.max(0, t0 + KILL_AT * 1000 - (performance.timeOrigin + performance.now())),
        );
      },
    },
  );
  clearInterval(poll);
  if (killAtEpoch === 0) throw new Error('the kill never happened');
  const records = JSON.parse(readFileSync(out, 'utf8')) as RequestRecord[];
  const killMs = killAtEpoch - result.t0;
  const endMs = SECONDS * 1000;

  const failures = records.filter((r) => r[2] !== 200);
  const statusCounts: Record<string, number> = {};
  for (const r of failures) statusCounts[String(r[2])] = (statusCounts[String(r[2])] ?? 0) + 1;
  const firstFailure = failures.length > 0 ? Math.min(...failures.map((r) => r[0] + r[1])) : undefined;
  const lastFailure = failures.length > 0 ? Math.max(...failures.map((r) => r[0] + r[1])) : undefined;
  const failureSeconds =
    firstFailure !== undefined && lastFailure !== undefined ? (lastFailure - firstFailure) / 1000 : 0;

  const before = window(records, Math.min(1000, killMs), killMs);
  const during = window(records, killMs, Math.min(endMs, killMs + DISTURBANCE * 1000));
  const after = window(records, Math.min(endMs, killMs + DISTURBANCE * 1000), endMs);
  // Any request in flight at the kill or started during the disturbance.
  const disturbed = records.filter((r) => r[0] + r[1] >= killMs && r[0] < killMs + DISTURBANCE * 1000);
  const maxDisturbedMs = disturbed.reduce((m, r) => Math.max(m, r[1]), 0);

  // Throughput second by second, to see the dip.
  const perSecond: number[] = [];
  for (let s = 0; s < Math.ceil(SECONDS); s++) perSecond.push(window(records, s * 1000, (s + 1) * 1000).rps);

  const restartSeconds = restartedAtEpoch > 0 ? (restartedAtEpoch - killAtEpoch) / 1000 : Number.NaN;
  const gatewayLog = gatewayWarnings(join(system.logDir, 'gateway-1.jsonl'));
  pinAll();

  console.log(
    `\n${NAME}: SIGKILL of ${VICTIM} at ${fmt(killMs / 1000, 2)} s; ${records.length} reads through the gateway`,
  );
  console.log(
    table(
      ['window', 'from s', 'to s', 'reads', 'failed', 'req/s', 'p50 ms', 'p99 ms', 'max ms'],
      [
        ['before kill', before],
        [`during (${DISTURBANCE} s)`, during],
        ['after', after],
      ].map(([label, w]) => {
        const x = w as ReturnType<typeof window>;
        return [
          label as string,
          fmt(x.from, 1),
          fmt(Math.min(x.to, SECONDS), 1),
          String(x.requests),
          String(x.failed),
          fmt(x.rps, 0),
          fmt(x.p50Ms, 2),
          fmt(x.p99Ms, 2),
          fmt(x.maxMs, 1),
        ];
      }),
    ),
  );
  console.log(`req/s per second: ${perSecond.map((r) => fmt(r, 0)).join(' ')}`);
  console.log(
    `failed reads: ${failures.length}${failures.length > 0 ? ` (${JSON.stringify(statusCounts)}; first ${fmt((firstFailure! - killMs) / 1000, 2)} s, last ${fmt((lastFailure! - killMs) / 1000, 2)} s after the kill)` : ''}; seconds with failures: ${fmt(failureSeconds, 2)}; max latency of a read in flight at or started during the disturbance: ${fmt(maxDisturbedMs, 1)} ms`,
  );
  console.log(
    `${VICTIM} restarted by the supervisor: ${restarted ? `pid ${restarted.pid}, ready ${fmt(restartSeconds, 2)} s after the kill` : 'not within the run'}; survivor catalog-2 pid ${survivor.pid}`,
  );
  if (Object.keys(result.errors).length > 0)
    console.log(`transport errors: ${JSON.stringify(result.errors)}`);
  if (gatewayLog.length > 0) console.log(`gateway warnings: ${gatewayLog.join('; ')}`);
  console.log(`load loop CPU share: ${fmt(result.cpuShare * 100, 0)} % of CPU ${LOAD_CPU}`);

  const ratios: Ratio[] = [
    { name: 'failed reads', value: failures.length, goal: '= 0', met: failures.length === 0 },
    {
      name: 'seconds with failures (first to last)',
      value: failureSeconds,
      goal: '= 0',
      met: failureSeconds === 0,
    },
    { name: 'throughput after ÷ before', value: after.rps / before.rps },
    { name: 'max latency during ÷ p99 before', value: maxDisturbedMs / before.p99Ms },
  ];
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      path: '/api/products/:id',
      connections: CONNECTIONS,
      seconds: SECONDS,
      killAtSeconds: KILL_AT,
      disturbanceSeconds: DISTURBANCE,
      logLevel: BENCH_LOG_LEVEL,
      catalogReplicas: 2,
    },
    figures: {
      reads: records.length,
      failedReads: failures.length,
      failuresByStatus: statusCounts,
      transportErrors: result.errors,
      killAtSeconds: killMs / 1000,
      firstFailureAfterKillSeconds: firstFailure === undefined ? null : (firstFailure - killMs) / 1000,
      lastFailureAfterKillSeconds: lastFailure === undefined ? null : (lastFailure - killMs) / 1000,
      failureSeconds,
      maxLatencyDuringDisturbanceMs: maxDisturbedMs,
      before,
      during,
      after,
      perSecondRps: perSecond,
      restartReadyAfterKillSeconds: restartSeconds,
      loadLoopCpuShare: result.cpuShare,
      gatewayWarnings: gatewayLog,
      pins,
    },
    ratios,
    notes: [
      `Every system process on CPU 0 (${describePins(pins)}); the load loop alone on CPU ${LOAD_CPU}.`,
      `"during" is the ${DISTURBANCE} s after the kill; "before" starts 1 s into the run, after ${WARMUP} s of unrecorded warm-up.`,
    ],
  };
}

/** The gateway's warnings and errors, counted by message (ejections, circuits, failures). */
function gatewayWarnings(file: string): string[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const record = JSON.parse(line) as { level?: number; msg?: string };
      if ((record.level ?? 0) >= 40) counts.set(record.msg ?? '?', (counts.get(record.msg ?? '?') ?? 0) + 1);
    } catch {
      // Not a JSON line.
    }
  }
  return [...counts].map(([msg, n]) => `${msg} ×${n}`);
}

if (import.meta.main) {
  await runAsProgram(NAME, main, { timeLimitMs: 240_000 + SECONDS * 1000 * 2 });
}
