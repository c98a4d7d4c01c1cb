/**
 * Gateway hop: what the gateway costs on a product read, against a bare undici proxy and against
 * no proxy at all, measured side by side in one run.
 *
 * Setups, all reading `GET /api/products/<id>` from the SAME single catalog instance:
 *   gateway — through the full Bazaar gateway (the system runs with catalog ×1, so it has exactly
 *             one backend, like the bare proxy);
 *   bare    — through bench/lib/bare-proxy.ts (node:http + undici Pool, streaming; nothing else);
 *   direct  — straight to the catalog instance.
 * Rounds are interleaved (gateway, bare, direct; then rotated) and each figure is the median over
 * rounds. The system (every service and PostgreSQL) and the bare proxy run on CPU 0; autocannon
 * runs in its own process on CPU 1.
 *
 * Settings (environment): BENCH_SECONDS per round (6), BENCH_ROUNDS (5), BENCH_WARMUP seconds per
 * setup (5), BENCH_CONNECTIONS (32), BENCH_LOG_LEVEL (warn).
 *
 * BENCH_PROFILE=1 measures nothing side by side: it runs every service with `--cpu-prof`, loads the
 * gateway alone (warm-up, then BENCH_SECONDS), stops the system so the profiles are written to
 * `.bench/profiles/`, and prints where the gateway's and the catalog's CPU time went.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
import {
  type BenchResult,
  cpuBusy,
  cpuSnapshot,
  descendants,
  envNumber,
  fmt,
  median,
  onCleanup,
  pin,
  processCpuMs,
  processCpuSplitMs,
  processKind,
  type Ratio,
  resultsDir,
  runAsProgram,
  runWorker,
  table,
} from './lib/common.ts';
import { type ProfileSummary, type Row, summarizeProfile } from './lib/cpuprofile.ts';
import {
  BENCH_LOG_LEVEL,
  describePins,
  LOAD_CPU,
  SYSTEM_CPU,
  someProductId,
  startBenchSystem,
} from './lib/system.ts';

const NAME = 'gateway-hop';
const SECONDS = envNumber('BENCH_SECONDS', 6);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 5)));
const WARMUP = envNumber('BENCH_WARMUP', 5);
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_CONNECTIONS', 32)));
const GOAL = 0.8;
const PROFILE = process.env.BENCH_PROFILE === '1';

type Setup = 'gateway' | 'bare' | 'direct';
const SETUPS: Setup[] = ['gateway', 'bare', 'direct'];

interface Measurement extends AutocannonFigures {
  setup: Setup;
  round: number;
  /** Busy share of CPU 0 (system) and CPU 1 (load generator) during the round. */
  cpu0: number;
  cpu1: number;
  /** Share of CPU 0 used by processes that are not ours (other work on this shared machine). */
  cpu0Others: number;
  /** CPU time of every process of ours on CPU 0 (system, bare proxy) per successful request, µs. */
  systemUsPerReq: number;
  /** CPU time per successful request, µs, of the proxy process (gateway or bare proxy). */
  proxyUsPerReq: number;
  /** The same, kernel (system) time only: socket syscalls and loopback delivery. */
  proxySysUsPerReq: number;
  catalogUsPerReq: number;
  postgresUsPerReq: number;
}

function startBareProxy(
  upstream: string,
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, join(import.meta.dirname, 'lib', 'bare-proxy.ts')], {
      env: { ...process.env, BARE_UPSTREAM: upstream, BARE_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup('stop the bare proxy', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const timer = setTimeout(() => reject(new Error('the bare proxy did not listen within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the bare proxy exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${m[1]}` });
      }
    });
  });
}

async function expectOk(url: string): Promise<number> {
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return body.byteLength;
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting the system (catalog ×1, log level ${BENCH_LOG_LEVEL})…`);
  const { system, pinAll } = await startBenchSystem({ replicas: { catalog: 1 } });
  const catalog = system.supervisor.info('catalog-1');
  const gatewayPid = system.supervisor.info('gateway-1').pid!;
  const catalogPid = catalog.pid!;
  if (!catalog.url) throw new Error('catalog-1 has no url');
  const bare = await startBareProxy(catalog.url);

  const id = await someProductId(catalog.url);
  const path = `/api/products/${id}`;
  const bases: Record<Setup, string> = { gateway: system.gatewayUrl, bare: bare.url, direct: catalog.url };
  const sizes: Record<string, number> = {};
  for (const setup of SETUPS) sizes[setup] = await expectOk(`${bases[setup]}${path}`);
  const pins = pinAll();
  console.log(`${NAME}: ${describePins(pins)}; load generator on CPU ${LOAD_CPU}`);
  console.log(
    `${NAME}: GET ${path} at ${CONNECTIONS} connections; ${ROUNDS} round(s) of ${SECONDS} s per setup after ${WARMUP} s warm-up`,
  );

  const systemPids = () => [
    process.pid,
    ...descendants(process.pid).filter((pid) => processKind(pid) !== 'load generator'),
  ];
  const postgresPids = () => [system.cluster.pid, ...descendants(system.cluster.pid)];
  const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const proxyPid: Record<Setup, number | undefined> = {
    gateway: gatewayPid,
    bare: bare.child.pid,
    direct: undefined,
  };
  const timeoutMs = (WARMUP + SECONDS) * 1000 + 60_000;

  const measure = async (setup: Setup, round: number, seconds: number, warmupSeconds = 0) => {
    const pgBefore = postgresPids();
    const oursBefore = new Map(systemPids().map((pid) => [pid, processCpuMs(pid)]));
    const startedMs = performance.now();
    const before = {
      cpu: cpuSnapshot(),
      proxy: proxyPid[setup] ? processCpuSplitMs(proxyPid[setup]) : { user: 0, system: 0 },
      catalog: processCpuMs(catalogPid),
      pg: cpuOf(pgBefore),
    };
    const figures = await runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      { url: `${bases[setup]}${path}`, connections: CONNECTIONS, seconds, warmupSeconds },
      { cpus: LOAD_CPU, timeoutMs },
    );
    const busy = cpuBusy(before.cpu, cpuSnapshot());
    const elapsedMs = performance.now() - startedMs;
    let oursMs = 0;
    for (const pid of systemPids()) oursMs += processCpuMs(pid) - (oursBefore.get(pid) ?? 0);
    const proxyAfter = proxyPid[setup] ? processCpuSplitMs(proxyPid[setup]) : undefined;
    const perReq = (ms: number) => (figures.ok > 0 ? (ms * 1000) / figures.ok : Number.NaN);
    const m: Measurement = {
      ...figures,
      setup,
      round,
      cpu0: busy[0] ?? Number.NaN,
      cpu1: busy[1] ?? Number.NaN,
      cpu0Others: Math.max(0, (busy[0] ?? 0) - oursMs / elapsedMs),
      systemUsPerReq: perReq(oursMs),
      proxyUsPerReq: proxyAfter
        ? perReq(proxyAfter.user + proxyAfter.system - before.proxy.user - before.proxy.system)
        : Number.NaN,
      proxySysUsPerReq: proxyAfter ? perReq(proxyAfter.system - before.proxy.system) : Number.NaN,
      catalogUsPerReq: perReq(processCpuMs(catalogPid) - before.catalog),
      // Backends that ended during the round are missed; they live for the whole run here.
      postgresUsPerReq: perReq(cpuOf(postgresPids()) - before.pg),
    };
    return m;
  };

  if (WARMUP > 0) {
    for (const setup of SETUPS) {
      process.stdout.write(`${NAME}: warming up ${setup}…\n`);
      await measure(setup, 0, WARMUP);
    }
  }
  const rounds: Measurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = SETUPS.map((_, i) => SETUPS[(i + round - 1) % SETUPS.length]!);
    for (const setup of order) {
      const m = await measure(setup, round, SECONDS);
      rounds.push(m);
      console.log(
        `${NAME}: round ${round} ${setup.padEnd(7)} ${fmt(m.rps, 0).padStart(6)} req/s  p50 ${fmt(m.p50Ms, 2)} ms  p99 ${fmt(m.p99Ms, 2)} ms  non-2xx ${m.non2xx}  errors ${m.errors}  cpu0 ${fmt(m.cpu0 * 100, 0)}% (others ${fmt(m.cpu0Others * 100, 0)}%)  loadgen ${fmt(m.cpuShare * 100, 0)}%`,
      );
    }
  }
  pinAll();

  const of = (setup: Setup) => rounds.filter((r) => r.setup === setup);
  const med = (setup: Setup, key: keyof Measurement) => median(of(setup).map((r) => r[key] as number));
  const summary = Object.fromEntries(
    SETUPS.map((setup) => [
      setup,
      {
        rps: med(setup, 'rps'),
        p50Ms: med(setup, 'p50Ms'),
        p99Ms: med(setup, 'p99Ms'),
        maxMs: Math.max(...of(setup).map((r) => r.maxMs)),
        non2xx: of(setup).reduce((s, r) => s + r.non2xx, 0),
        errors: of(setup).reduce((s, r) => s + r.errors + r.timeouts, 0),
        cpu0: med(setup, 'cpu0'),
        cpu0Others: med(setup, 'cpu0Others'),
        systemUsPerReq: med(setup, 'systemUsPerReq'),
        loadgenCpuShare: med(setup, 'cpuShare'),
        proxyUsPerReq: med(setup, 'proxyUsPerReq'),
        proxySysUsPerReq: med(setup, 'proxySysUsPerReq'),
        catalogUsPerReq: med(setup, 'catalogUsPerReq'),
        postgresUsPerReq: med(setup, 'postgresUsPerReq'),
      },
    ]),
  ) as unknown as Record<Setup, Record<string, number>>;

  // Ratios of each round's side-by-side pair, then the median over rounds.
  const pairRatios = (a: Setup, b: Setup) =>
    Array.from({ length: ROUNDS }, (_, i) => {
      const x = rounds.find((r) => r.setup === a && r.round === i + 1)!;
      const y = rounds.find((r) => r.setup === b && r.round === i + 1)!;
      return x.rps / y.rps;
    });
  const gwBare = pairRatios('gateway', 'bare');
  // Requests per CPU-second of everything on CPU 0: what req/s would be without other work there.
  const cpuRatios = (a: Setup, b: Setup) =>
    Array.from({ length: ROUNDS }, (_, i) => {
      const x = rounds.find((r) => r.setup === a && r.round === i + 1)!;
      const y = rounds.find((r) => r.setup === b && r.round === i + 1)!;
      return y.systemUsPerReq / x.systemUsPerReq;
    });
  const gwBareCpu = cpuRatios('gateway', 'bare');
  const gwDirectCpu = cpuRatios('gateway', 'direct');
  const gwDirect = pairRatios('gateway', 'direct');
  const bareDirect = pairRatios('bare', 'direct');

  console.log(
    `\n${NAME}: GET /api/products/:id, ${CONNECTIONS} connections, median of ${ROUNDS} × ${SECONDS} s`,
  );
  console.log(
    table(
      [
        'setup',
        'req/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'non-2xx',
        'errors',
        'CPU0 busy (others)',
        'loadgen CPU',
        'system CPU µs/req',
        'proxy CPU µs/req (sys)',
        'catalog µs/req',
        'pg µs/req',
      ],
      SETUPS.map((setup) => {
        const s = summary[setup];
        return [
          setup,
          fmt(s.rps, 0),
          fmt(s.p50Ms, 2),
          fmt(s.p99Ms, 2),
          fmt(s.maxMs, 1),
          String(s.non2xx),
          String(s.errors),
          `${fmt(s.cpu0! * 100, 0)}% (${fmt(s.cpu0Others! * 100, 0)}%)`,
          `${fmt(s.loadgenCpuShare! * 100, 0)}%`,
          fmt(s.systemUsPerReq, 0),
          Number.isNaN(s.proxyUsPerReq!) ? '–' : `${fmt(s.proxyUsPerReq, 0)} (${fmt(s.proxySysUsPerReq, 0)})`,
          fmt(s.catalogUsPerReq, 0),
          fmt(s.postgresUsPerReq, 0),
        ];
      }),
    ),
  );
  console.log(
    `per-round req/s ratios: gateway÷bare ${gwBare.map((r) => fmt(r, 3)).join(' ')}; gateway÷direct ${gwDirect.map((r) => fmt(r, 3)).join(' ')}`,
  );
  console.log(
    `per-round req per CPU-s ratios: gateway÷bare ${gwBareCpu.map((r) => fmt(r, 3)).join(' ')}; gateway÷direct ${gwDirectCpu.map((r) => fmt(r, 3)).join(' ')}`,
  );

  const ratios: Ratio[] = [
    {
      name: 'gateway ÷ bare proxy (req/s)',
      value: median(gwBare),
      goal: `>= ${GOAL}`,
      met: median(gwBare) >= GOAL,
    },
    {
      name: 'gateway ÷ bare proxy (req per CPU-s on CPU 0)',
      value: median(gwBareCpu),
      goal: `>= ${GOAL}`,
      met: median(gwBareCpu) >= GOAL,
    },
    { name: 'gateway ÷ direct (req/s)', value: median(gwDirect) },
    { name: 'gateway ÷ direct (req per CPU-s on CPU 0)', value: median(gwDirectCpu) },
    { name: 'bare proxy ÷ direct (req/s)', value: median(bareDirect) },
    { name: 'gateway ÷ bare proxy (p50 latency)', value: summary.gateway.p50Ms! / summary.bare.p50Ms! },
    {
      name: 'gateway ÷ bare proxy (proxy CPU per request)',
      value: summary.gateway.proxyUsPerReq! / summary.bare.proxyUsPerReq!,
    },
  ];
  const notes = [
    'The system runs with catalog ×1, so the gateway and the bare proxy both forward to the one catalog instance the direct setup reads.',
    `Every system process and the bare proxy are pinned to CPU 0; autocannon runs alone on CPU 1 (${describePins(pins)}).`,
    `Log level ${BENCH_LOG_LEVEL}: no per-request access log.`,
    'Throughput is bounded by CPU 0, shared by the proxy, the catalog and PostgreSQL: a hop that costs CPU takes it from the catalog too.',
    '"req per CPU-s on CPU 0" divides requests by the CPU time our own processes used, so work of other users on CPU 0 (the "others" share) does not move it; req/s does.',
  ];
  const errors = SETUPS.reduce((s, setup) => s + summary[setup].non2xx! + summary[setup].errors!, 0);
  if (errors > 0) notes.push(`${errors} non-2xx answers or errors: the figures are suspect.`);
  if (SETUPS.some((setup) => summary[setup].loadgenCpuShare! > 0.9)) {
    notes.push(
      'The load generator used over 90 % of its core in some setup: that setup may be load-generator bound.',
    );
  }
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      path: '/api/products/:id',
      connections: CONNECTIONS,
      roundSeconds: SECONDS,
      rounds: ROUNDS,
      warmupSeconds: WARMUP,
      logLevel: BENCH_LOG_LEVEL,
      catalogReplicas: 1,
      bodyBytes: sizes,
    },
    figures: { summary, rounds, pins },
    ratios,
    notes,
  };
}

/** BENCH_PROFILE=1: CPU profiles of the gateway, the bare proxy and the catalog, each under load. */
async function profileMain(): Promise<BenchResult> {
  const startedAt = new Date();
  const dir = join(resultsDir, 'profiles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cpuProf = `--cpu-prof --cpu-prof-dir=${dir}`;
  console.log(`${NAME}: profiling: every service and the bare proxy run with --cpu-prof (into ${dir})…`);
  const { system, pinAll } = await startBenchSystem({
    replicas: { catalog: 1 },
    env: { NODE_OPTIONS: cpuProf },
  });
  const catalog = system.supervisor.info('catalog-1');
  const bare = await startBareProxy(catalog.url!, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const pids = {
    gateway: system.supervisor.info('gateway-1').pid!,
    bare: bare.child.pid!,
    catalog: catalog.pid!,
  };
  const id = await someProductId(catalog.url!);
  const pins = pinAll();
  // A sampling profiler charges a function for the time its thread waits descheduled: on a shared
  // core a socket write looks as costly as the catalog work it wakes. So here the proxy being
  // profiled gets CPU 1 to itself, and the load generator joins the rest of the system on CPU 0.
  for (const pid of [pids.gateway, pids.bare]) pin(pid, LOAD_CPU);
  const hrUs = () => Number(process.hrtime.bigint() / 1000n);
  const load = (base: string, seconds: number) =>
    runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      { url: `${base}/api/products/${id}`, connections: CONNECTIONS, seconds },
      { cpus: SYSTEM_CPU, timeoutMs: seconds * 1000 + 60_000 },
    );
  const windows: Partial<
    Record<'gateway' | 'bare', { fromUs: number; toUs: number; figures: AutocannonFigures }>
  > = {};
  for (const [setup, base] of [
    ['gateway', system.gatewayUrl],
    ['bare', bare.url],
  ] as const) {
    if (WARMUP > 0) await load(base, WARMUP);
    const fromUs = hrUs();
    const figures = await load(base, SECONDS);
    windows[setup] = { fromUs, toUs: hrUs(), figures };
    console.log(
      `${NAME}: ${setup} under profiling: ${fmt(figures.rps, 0)} req/s, p50 ${fmt(figures.p50Ms, 2)} ms, p99 ${fmt(figures.p99Ms, 2)} ms (${figures.ok} reads)`,
    );
  }
  bare.child.kill('SIGTERM');
  await new Promise((r) => (bare.child.exitCode !== null ? r(null) : bare.child.once('exit', r)));
  await system.stop();

  const profileOf = (pid: number) => {
    const file = readdirSync(dir).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile was written for pid ${pid}`);
    return join(dir, file);
  };
  const w = windows as Record<
    'gateway' | 'bare',
    { fromUs: number; toUs: number; figures: AutocannonFigures }
  >;
  const summaries = {
    gateway: {
      file: profileOf(pids.gateway),
      ...summarizeProfile(profileOf(pids.gateway), { ...w.gateway, top: 25 }),
    },
    bare: { file: profileOf(pids.bare), ...summarizeProfile(profileOf(pids.bare), { ...w.bare, top: 25 }) },
    catalog: {
      file: profileOf(pids.catalog),
      ...summarizeProfile(profileOf(pids.catalog), { ...w.gateway, top: 25 }),
    },
  } satisfies Record<string, ProfileSummary & { file: string }>;
  const perRead = (ms: number, setup: 'gateway' | 'bare') => (ms * 1000) / w[setup].figures.ok;

  console.log(
    `\nCPU per read while loaded (profiled, so inflated): gateway ${fmt(perRead(summaries.gateway.busyMs, 'gateway'), 0)} µs, bare proxy ${fmt(perRead(summaries.bare.busyMs, 'bare'), 0)} µs, catalog ${fmt(perRead(summaries.catalog.busyMs, 'gateway'), 0)} µs`,
  );
  const names = new Set([
    ...summaries.gateway.byCallerPackage.map((r) => r.name),
    ...summaries.bare.byCallerPackage.map((r) => r.name),
  ]);
  const find = (rows: Row[], name: string) => rows.find((r) => r.name === name)?.ms ?? 0;
  console.log('\nby package, Node core and native work counted to the package that called it (µs per read)');
  console.log(
    table(
      ['package', 'gateway', 'bare proxy', 'difference'],
      [...names]
        .map((name) => {
          const g = perRead(find(summaries.gateway.byCallerPackage, name), 'gateway');
          const b = perRead(find(summaries.bare.byCallerPackage, name), 'bare');
          return { name, g, b };
        })
        .sort((x, y) => y.g - y.b - (x.g - x.b))
        .map(({ name, g, b }) => [name, fmt(g, 1), fmt(b, 1), fmt(g - b, 1)]),
    ),
  );
  for (const [title, rows] of [
    [
      'gateway: functions with the Node core and native work they call (µs per read)',
      summaries.gateway.byCallerFunction,
    ],
    ['gateway: self time by function (µs per read)', summaries.gateway.topSelf],
    [
      'catalog: by package, with the Node core and native work it calls (µs per read)',
      summaries.catalog.byCallerPackage,
    ],
  ] as const) {
    console.log(`\n${title}`);
    console.log(
      table(
        ['', 'µs/read', 'share'],
        rows
          .slice(0, 20)
          .map((r) => [r.name.slice(0, 110), fmt(perRead(r.ms, 'gateway'), 1), `${fmt(r.share * 100, 1)}%`]),
      ),
    );
  }
  return {
    name: `${NAME}-profile`,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      connections: CONNECTIONS,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      logLevel: BENCH_LOG_LEVEL,
    },
    figures: { windows, profiles: summaries, pins },
    ratios: [],
    notes: [
      'Only the samples taken while each setup was loaded are counted; --cpu-prof slows what it profiles.',
      'Raw profiles are in .bench/profiles/ (open them in Chrome DevTools or speedscope).',
    ],
  };
}

if (import.meta.main) {
  await runAsProgram(PROFILE ? `${NAME}-profile` : NAME, PROFILE ? profileMain : main, {
    timeLimitMs: 180_000 + SETUPS.length * (WARMUP + ROUNDS * (SECONDS + 10)) * 1000 * 1.5,
  });
}
