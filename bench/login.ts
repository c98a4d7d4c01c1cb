/**
 * Login: logins per second and their latency at the OWASP Argon2id parameters (identity's defaults:
 * 19 MiB, 2 iterations, 1 lane), and what a login flood does to the p99 of other routes.
 *
 * First N test customers are registered through the gateway. Then, each round:
 *   reads alone  — a steady, light read load (`GET /api/products?limit=5` at a fixed rate over a few
 *                  connections) with nothing else: the reads' baseline;
 *   logins alone — a login flood: closed loops, each logging the accounts in in turn with their
 *                  correct passwords, through the gateway;
 *   both         — the same flood, and the same read load measured inside it.
 * A last "reads alone" window closes the run, so every flood has a baseline before and after it.
 * Before the rounds, one connection logs in alone for a few seconds: a login's latency unqueued.
 * The figures are medians over rounds; the judged ratio is read p99 during the flood ÷ read p99
 * alone just before it (median of the rounds' ratios). Every system process runs on CPU 0; the
 * two load generators (a login loop and autocannon) run in their own processes on CPU 1.
 *
 * Settings (environment): BENCH_LOGIN_SECONDS per window (10), BENCH_LOGIN_ROUNDS (3),
 * BENCH_LOGIN_CONNECTIONS (8), BENCH_LOGIN_ACCOUNTS (32), BENCH_READ_CONNECTIONS (4),
 * BENCH_READ_RATE reads per second, 0 for closed loops at full speed (120), BENCH_WARMUP seconds of
 * each load before the first round (5), BENCH_LOG_LEVEL (warn).
 */
import { join } from 'node:path';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
import {
  allowedCpus,
  type BenchResult,
  cpuBusy,
  cpuSnapshot,
  descendants,
  envNumber,
  fmt,
  median,
  processCpuMs,
  processKind,
  type Ratio,
  runAsProgram,
  runWorker,
  sleep,
  table,
} from './lib/common.ts';
import { login, registerCustomers } from './lib/identity.ts';
import type { LoginFigures } from './lib/login-worker.ts';
import { BENCH_LOG_LEVEL, describePins, LOAD_CPU, startBenchSystem } from './lib/system.ts';

const NAME = 'login';
const SECONDS = envNumber('BENCH_LOGIN_SECONDS', 10);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_LOGIN_ROUNDS', 3)));
const LOGIN_CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_LOGIN_CONNECTIONS', 8)));
const ACCOUNTS = Math.max(1, Math.round(envNumber('BENCH_LOGIN_ACCOUNTS', 32)));
const READ_CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_READ_CONNECTIONS', 4)));
const READ_RATE = envNumber('BENCH_READ_RATE', 120);
const WARMUP = envNumber('BENCH_WARMUP', 5);
const READ_PATH = '/api/products?limit=5';
/** Seconds of logins over one connection: a login's latency with no queue. */
const SINGLE_SECONDS = 5;
/** The flood starts this long before the reads inside it, and outlasts them by as much. */
const LEAD_SECONDS = 1;

type Phase = 'reads alone' | 'logins alone' | 'both';

interface Usage {
  cpu0: number;
  cpu1: number;
  /** Share of CPU 0 used by processes that are not ours. */
  cpu0Others: number;
  /** CPU time of each service (and PostgreSQL) over the window, ms. */
  cpuMs: Record<string, number>;
}

interface Window {
  phase: Phase;
  round: number;
  reads?: AutocannonFigures;
  logins?: LoginFigures;
  usage: Usage;
}

/** `status: count, …` ('–' for none). */
function describeCounts(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || '–'
  );
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting the system (log level ${BENCH_LOG_LEVEL})…`);
  const { system, pinAll } = await startBenchSystem();
  const gatewayUrl = system.gatewayUrl;

  const registerStarted = performance.now();
  const accounts = await registerCustomers(gatewayUrl, ACCOUNTS);
  const registerSeconds = (performance.now() - registerStarted) / 1000;
  console.log(
    `${NAME}: registered ${ACCOUNTS} customers in ${fmt(registerSeconds, 1)} s (${fmt(ACCOUNTS / registerSeconds, 1)}/s, 4 at a time)`,
  );
  await login(gatewayUrl, accounts[0]!); // the accounts work
  const probe = await fetch(`${gatewayUrl}${READ_PATH}`);
  await probe.arrayBuffer();
  if (probe.status !== 200) throw new Error(`GET ${READ_PATH} answered ${probe.status}`);

  const pins = pinAll();
  const identity = system.supervisor.info('identity-1');
  const identityCpus = identity.pid ? allowedCpus(identity.pid) : undefined;
  console.log(`${NAME}: ${describePins(pins)}; load generators on CPU ${LOAD_CPU}`);
  console.log(
    `${NAME}: logins: POST /api/auth/login over ${LOGIN_CONNECTIONS} connections cycling over ${ACCOUNTS} accounts; reads: GET ${READ_PATH} over ${READ_CONNECTIONS} connections at ${READ_RATE > 0 ? `${READ_RATE}/s` : 'full speed'}; ${ROUNDS} round(s) of ${SECONDS} s windows after ${WARMUP} s warm-up`,
  );

  // CPU time by kind of process (gateway, identity, catalog, postgres…), ours only.
  const cpuByKind = () => {
    const byKind: Record<string, number> = {};
    for (const pid of [process.pid, ...descendants(process.pid)]) {
      let kind = processKind(pid);
      if (kind === 'load generator' || kind === 'taskset') continue;
      if (kind.startsWith('postgres')) kind = 'postgres';
      byKind[kind] = (byKind[kind] ?? 0) + processCpuMs(pid);
    }
    return byKind;
  };
  const timeoutMs = (SECONDS + WARMUP + 2 * LEAD_SECONDS) * 1000 + 60_000;
  const reads = (seconds: number) =>
    runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      {
        url: `${gatewayUrl}${READ_PATH}`,
        connections: READ_CONNECTIONS,
        seconds,
        ...(READ_RATE > 0 ? { overallRate: READ_RATE } : {}),
      },
      { cpus: LOAD_CPU, timeoutMs },
    );
  const logins = (seconds: number, connections = LOGIN_CONNECTIONS) =>
    runWorker<LoginFigures>(
      join(import.meta.dirname, 'lib', 'login-worker.ts'),
      { url: `${gatewayUrl}/api/auth/login`, accounts, connections, seconds },
      { cpus: LOAD_CPU, timeoutMs },
    );
  const measured = async <T>(work: () => Promise<T>): Promise<{ result: T; usage: Usage }> => {
    const before = { cpu: cpuSnapshot(), kinds: cpuByKind(), at: performance.now() };
    const result = await work();
    const busy = cpuBusy(before.cpu, cpuSnapshot());
    const elapsedMs = performance.now() - before.at;
    const cpuMs: Record<string, number> = {};
    for (const [kind, ms] of Object.entries(cpuByKind())) cpuMs[kind] = ms - (before.kinds[kind] ?? 0);
    const oursMs = Object.values(cpuMs).reduce((a, b) => a + b, 0);
    return {
      result,
      usage: {
        cpu0: busy[0] ?? Number.NaN,
        cpu1: busy[1] ?? Number.NaN,
        cpu0Others: Math.max(0, (busy[0] ?? 0) - oursMs / elapsedMs),
        cpuMs,
      },
    };
  };

  if (WARMUP > 0) {
    console.log(`${NAME}: warming up (reads, then logins, ${WARMUP} s each)…`);
    await reads(WARMUP);
    await logins(WARMUP);
  }

  const single = await measured(() => logins(SINGLE_SECONDS, 1));
  console.log(
    `${NAME}: one login at a time: ${fmt(single.result.rps, 1)}/s  p50 ${fmt(single.result.p50Ms, 1)} ms  p99 ${fmt(single.result.p99Ms, 1)} ms (${describeCounts({ ...single.result.statuses, ...single.result.errors })})  identity CPU ${fmt((single.usage.cpuMs.identity ?? 0) / single.result.ok, 1)} ms/login`,
  );

  const windows: Window[] = [];
  const readsAlone = async (round: number) => {
    const { result, usage } = await measured(() => reads(SECONDS));
    const w: Window = { phase: 'reads alone', round, reads: result, usage };
    windows.push(w);
    report(w);
  };
  for (let round = 1; round <= ROUNDS; round++) {
    await readsAlone(round);
    {
      const { result, usage } = await measured(() => logins(SECONDS));
      const w: Window = { phase: 'logins alone', round, logins: result, usage };
      windows.push(w);
      report(w);
    }
    {
      const { result, usage } = await measured(async () => {
        // Either failing fails the window at once.
        const [flood, inside] = await Promise.all([
          logins(SECONDS + 2 * LEAD_SECONDS),
          sleep(LEAD_SECONDS * 1000).then(() => reads(SECONDS)),
        ]);
        return { logins: flood, reads: inside };
      });
      const w: Window = { phase: 'both', round, ...result, usage };
      windows.push(w);
      report(w);
    }
  }
  await readsAlone(ROUNDS + 1);
  pinAll();

  // Per round: the reads before the flood, during it, and after it (the next round's baseline).
  const alone = (round: number) => windows.find((w) => w.phase === 'reads alone' && w.round === round)!;
  const both = (round: number) => windows.find((w) => w.phase === 'both' && w.round === round)!;
  const floodAlone = (round: number) => windows.find((w) => w.phase === 'logins alone' && w.round === round)!;
  const perRound = (f: (round: number) => number) => Array.from({ length: ROUNDS }, (_, i) => f(i + 1));
  const p99DuringBefore = perRound((r) => both(r).reads!.p99Ms / alone(r).reads!.p99Ms);
  const p99DuringAfter = perRound((r) => both(r).reads!.p99Ms / alone(r + 1).reads!.p99Ms);
  const p50DuringBefore = perRound((r) => both(r).reads!.p50Ms / alone(r).reads!.p50Ms);
  const readRateDuringBefore = perRound((r) => both(r).reads!.rps / alone(r).reads!.rps);
  const loginsWithReads = perRound((r) => both(r).logins!.rps / floodAlone(r).logins!.rps);

  const readWindows = windows.filter((w) => w.reads);
  const loginWindows = windows.filter((w) => w.logins);
  const med = (ws: Window[], f: (w: Window) => number) => median(ws.map(f));
  const ofPhase = (phase: Phase) => windows.filter((w) => w.phase === phase);
  const loginCount = (w: Window) => w.logins?.ok ?? 0;
  const identityMsPerLogin = (w: Window) =>
    loginCount(w) > 0 ? (w.usage.cpuMs.identity ?? 0) / loginCount(w) : Number.NaN;
  const systemMsPerLogin = (w: Window) =>
    loginCount(w) > 0 ? Object.values(w.usage.cpuMs).reduce((a, b) => a + b, 0) / loginCount(w) : Number.NaN;
  const statuses = (ws: Window[]) => {
    const counts: Record<string, number> = {};
    for (const w of ws) {
      for (const [k, v] of Object.entries(w.logins?.statuses ?? {})) counts[k] = (counts[k] ?? 0) + v;
      for (const [k, v] of Object.entries(w.logins?.errors ?? {})) counts[k] = (counts[k] ?? 0) + v;
    }
    return counts;
  };

  console.log(
    `\n${NAME}: logins at the OWASP Argon2id parameters, ${LOGIN_CONNECTIONS} connections over ${ACCOUNTS} accounts; median of ${ROUNDS} × ${SECONDS} s`,
  );
  console.log(
    table(
      [
        'flood',
        'logins/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'answers',
        'CPU0 busy (others)',
        'loadgen CPU',
        'identity CPU ms/login',
        'system CPU ms/login',
      ],
      (['logins alone', 'both'] as const).map((phase) => {
        const ws = ofPhase(phase);
        return [
          phase === 'both' ? 'with reads' : 'alone',
          fmt(
            med(ws, (w) => w.logins!.rps),
            1,
          ),
          fmt(
            med(ws, (w) => w.logins!.p50Ms),
            1,
          ),
          fmt(
            med(ws, (w) => w.logins!.p99Ms),
            1,
          ),
          fmt(Math.max(...ws.map((w) => w.logins!.maxMs)), 1),
          describeCounts(statuses(ws)),
          `${fmt(med(ws, (w) => w.usage.cpu0) * 100, 0)}% (${fmt(med(ws, (w) => w.usage.cpu0Others) * 100, 0)}%)`,
          `${fmt(med(ws, (w) => w.logins!.cpuShare + (w.reads?.cpuShare ?? 0)) * 100, 0)}%`,
          fmt(med(ws, identityMsPerLogin), 1),
          fmt(med(ws, systemMsPerLogin), 1),
        ];
      }),
    ),
  );
  console.log(
    `\n${NAME}: GET ${READ_PATH}, ${READ_CONNECTIONS} connections at ${READ_RATE > 0 ? `${READ_RATE}/s` : 'full speed'}; median of ${ROUNDS + 1} windows alone, ${ROUNDS} during a flood`,
  );
  console.log(
    table(
      [
        'reads',
        'req/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'non-2xx',
        'errors',
        'CPU0 busy (others)',
        'loadgen CPU',
      ],
      (['reads alone', 'both'] as const).map((phase) => {
        const ws = ofPhase(phase);
        return [
          phase === 'both' ? 'during a flood' : 'alone',
          fmt(
            med(ws, (w) => w.reads!.rps),
            0,
          ),
          fmt(
            med(ws, (w) => w.reads!.p50Ms),
            2,
          ),
          fmt(
            med(ws, (w) => w.reads!.p90Ms),
            2,
          ),
          fmt(
            med(ws, (w) => w.reads!.p99Ms),
            2,
          ),
          fmt(Math.max(...ws.map((w) => w.reads!.maxMs)), 1),
          String(ws.reduce((s, w) => s + w.reads!.non2xx, 0)),
          String(ws.reduce((s, w) => s + w.reads!.errors + w.reads!.timeouts, 0)),
          `${fmt(med(ws, (w) => w.usage.cpu0) * 100, 0)}% (${fmt(med(ws, (w) => w.usage.cpu0Others) * 100, 0)}%)`,
          `${fmt(med(ws, (w) => w.reads!.cpuShare + (w.logins?.cpuShare ?? 0)) * 100, 0)}%`,
        ];
      }),
    ),
  );
  const list = (xs: number[]) => xs.map((x) => fmt(x, 2)).join(' ');
  console.log(
    `per-round read p99 during ÷ before ${list(p99DuringBefore)}; during ÷ after ${list(p99DuringAfter)}`,
  );

  const allStatuses = statuses(loginWindows);
  const refused = Object.entries(allStatuses)
    .filter(([k]) => k !== '200')
    .reduce((s, [, v]) => s + v, 0);
  const ratios: Ratio[] = [
    { name: 'login p50 ms (one at a time)', value: single.result.p50Ms },
    { name: 'logins/s (flood alone)', value: med(ofPhase('logins alone'), (w) => w.logins!.rps) },
    { name: 'login p99 ms (flood alone)', value: med(ofPhase('logins alone'), (w) => w.logins!.p99Ms) },
    { name: 'logins/s (flood with reads)', value: med(ofPhase('both'), (w) => w.logins!.rps) },
    { name: 'login p99 ms (flood with reads)', value: med(ofPhase('both'), (w) => w.logins!.p99Ms) },
    { name: 'failed or refused logins (429, 503, 401, errors)', value: refused },
    { name: 'read p99 during a login flood ÷ before it', value: median(p99DuringBefore) },
    { name: 'read p99 during a login flood ÷ after it', value: median(p99DuringAfter) },
    { name: 'read p50 during a login flood ÷ before it', value: median(p50DuringBefore) },
    { name: 'read req/s during a login flood ÷ before it', value: median(readRateDuringBefore) },
    { name: 'logins/s with reads ÷ alone', value: median(loginsWithReads) },
  ];
  const notes = [
    `Identity hashes with Argon2id at 19 MiB, 2 iterations, 1 lane, off the event loop, at most min(4, max(1, cores − 1)) at once; it runs on CPU ${identityCpus ?? '?'} only here, so it counts 1 core and hashes one at a time.`,
    `Every system process is pinned to CPU 0; both load generators share CPU 1 (${describePins(pins)}).`,
    READ_RATE > 0
      ? `Reads are sent at a fixed ${READ_RATE}/s over ${READ_CONNECTIONS} connections; a connection waits for its answer, so when answers are slower than ${fmt((READ_CONNECTIONS / READ_RATE) * 1000, 0)} ms fewer are sent (compare the read req/s) and the percentiles are not corrected for it.`
      : `Reads run as ${READ_CONNECTIONS} closed loops at full speed: they and the logins compete for CPU 0.`,
    `The reads inside a flood start ${LEAD_SECONDS} s after it and end about ${LEAD_SECONDS} s before it; the login figures of that window cover the whole flood.`,
    "The gateway's per-address request limit is off; its failed-login limits (per account, per address) are on and only count failures.",
    `Log level ${BENCH_LOG_LEVEL}: no per-request access log.`,
  ];
  if (refused > 0) notes.push(`Logins not answered 200 with a token: ${describeCounts(allStatuses)}.`);
  const readErrors = readWindows.reduce(
    (s, w) => s + w.reads!.non2xx + w.reads!.errors + w.reads!.timeouts,
    0,
  );
  if (readErrors > 0) notes.push(`${readErrors} reads failed (non-2xx or errors).`);
  if (READ_RATE > 0 && readWindows.some((w) => w.reads!.rps < READ_RATE * 0.95)) {
    notes.push('Some read window fell short of the fixed rate by over 5 %: its p99 understates the delay.');
  }
  const busyCpu1 = windows.filter((w) => w.usage.cpu1 > 0.9);
  if (busyCpu1.length > 0) {
    const ours = median(busyCpu1.map((w) => (w.logins?.cpuShare ?? 0) + (w.reads?.cpuShare ?? 0)));
    notes.push(
      `CPU 1 was over 90 % busy in ${busyCpu1.length} window(s), ${fmt(ours * 100, 0)} % of it our load generators: ${ours > 0.6 ? 'the load may be generator bound' : 'other work on the machine competed with them'}.`,
    );
  }
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      windowSeconds: SECONDS,
      rounds: ROUNDS,
      loginConnections: LOGIN_CONNECTIONS,
      accounts: ACCOUNTS,
      readPath: READ_PATH,
      readConnections: READ_CONNECTIONS,
      readRate: READ_RATE,
      warmupSeconds: WARMUP,
      leadSeconds: LEAD_SECONDS,
      logLevel: BENCH_LOG_LEVEL,
      argon2: { algorithm: 'argon2id', memoryKiB: 19_456, iterations: 2, parallelism: 1 },
      identityCpus,
    },
    figures: { registerSeconds, single, windows, pins },
    ratios,
    notes,
  };

  function report(w: Window): void {
    const parts = [`${NAME}: round ${w.round} ${w.phase.padEnd(12)}`];
    if (w.logins) {
      parts.push(
        `logins ${fmt(w.logins.rps, 1)}/s p50 ${fmt(w.logins.p50Ms, 1)} ms p99 ${fmt(w.logins.p99Ms, 1)} ms (${describeCounts({ ...w.logins.statuses, ...w.logins.errors })})`,
      );
    }
    if (w.reads) {
      parts.push(
        `reads ${fmt(w.reads.rps, 0)}/s p50 ${fmt(w.reads.p50Ms, 2)} ms p99 ${fmt(w.reads.p99Ms, 2)} ms non-2xx ${w.reads.non2xx} errors ${w.reads.errors}`,
      );
    }
    parts.push(
      `cpu0 ${fmt(w.usage.cpu0 * 100, 0)}% (others ${fmt(w.usage.cpu0Others * 100, 0)}%) cpu1 ${fmt(w.usage.cpu1 * 100, 0)}%`,
    );
    console.log(parts.join('  '));
  }
}

if (import.meta.main) {
  await runAsProgram(NAME, main, {
    timeLimitMs:
      180_000 +
      (2 * WARMUP + SINGLE_SECONDS + (ROUNDS * 3 + 1) * (SECONDS + 2 * LEAD_SECONDS + 10) + ACCOUNTS) *
        1000 *
        1.5,
  });
}
