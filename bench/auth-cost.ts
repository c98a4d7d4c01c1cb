/**
 * Auth cost: what a verified access token costs on a product read through the gateway, measured
 * side by side in one run.
 *
 * Setups, both reading `GET /api/products/<id>` through the gateway from the same single catalog
 * instance, at the same number of connections:
 *   anonymous     — no `Authorization`;
 *   authenticated — `Authorization: Bearer <access token>` on every request: one token of the
 *                   bootstrap customer, logged in once before (again only if a round would outlive
 *                   it). The gateway verifies it and the catalog verifies it again; each remembers a
 *                   verified token until it expires, so after the first request both are cache hits.
 * Rounds are interleaved (anonymous, authenticated; then the other way round) and each figure is the
 * median over rounds; each ratio is the median of the rounds' side-by-side ratios. The gateway's and
 * the catalog's `bazaar_auth_verifications_total` are read before and after the load to show which
 * outcome (verified, cached, rejected) the tokens had. The system (every service and PostgreSQL) runs
 * on CPU 0; autocannon runs in its own process on CPU 1. Goal: authenticated ÷ anonymous ≥ 0.9.
 *
 * Settings (environment): BENCH_SECONDS per round (3), BENCH_ROUNDS (16), BENCH_WARMUP seconds per
 * setup (15), BENCH_CONNECTIONS (32), BENCH_LOG_LEVEL (warn). With the defaults it takes about two
 * and a half minutes, well inside the access token's 10 minutes.
 */
import { join } from 'node:path';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
import {
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
  table,
} from './lib/common.ts';
import { type Login, login } from './lib/identity.ts';
import { readSeries, type Series, seriesDelta, seriesSum } from './lib/metrics.ts';
import { BENCH_LOG_LEVEL, describePins, LOAD_CPU, someProductId, startBenchSystem } from './lib/system.ts';

const NAME = 'auth-cost';
// Many short pairs: on this shared machine the speed of CPU 0 wanders within seconds, by more
// than what is measured here, so the median of many side-by-side pairs is what settles.
const SECONDS = envNumber('BENCH_SECONDS', 3);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 16)));
// Shorter warm-ups left the services still speeding up (JIT) through the first rounds.
const WARMUP = envNumber('BENCH_WARMUP', 15);
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_CONNECTIONS', 32)));
const GOAL = 0.9;
const METRIC = 'bazaar_auth_verifications_total';
/** A token is renewed before a round when less than this is left of it after the round, ms. */
const TOKEN_MARGIN_MS = 60_000;

type Setup = 'anonymous' | 'authenticated';
const SETUPS: Setup[] = ['anonymous', 'authenticated'];

interface Measurement extends AutocannonFigures {
  setup: Setup;
  round: number;
  /** Busy share of CPU 0 (system) and CPU 1 (load generator) during the round. */
  cpu0: number;
  cpu1: number;
  /** Share of CPU 0 used by processes that are not ours (other work on this shared machine). */
  cpu0Others: number;
  /** CPU time of every process of ours on CPU 0 per successful request, µs. */
  systemUsPerReq: number;
  gatewayUsPerReq: number;
  catalogUsPerReq: number;
}

async function status(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  const body = await res.arrayBuffer();
  return { status: res.status, bytes: body.byteLength, cacheControl: res.headers.get('cache-control') };
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting the system (catalog ×1, log level ${BENCH_LOG_LEVEL})…`);
  const { system, pinAll } = await startBenchSystem({ replicas: { catalog: 1 } });
  const gateway = system.supervisor.info('gateway-1');
  const catalog = system.supervisor.info('catalog-1');
  if (!gateway.url || !catalog.url || !gateway.pid || !catalog.pid) throw new Error('no gateway or catalog');
  const customer = system.bootstrapUsers?.users.customer;
  if (!customer) throw new Error('the system has no bootstrap customer (is identity running?)');

  const id = await someProductId(system.gatewayUrl);
  const url = `${system.gatewayUrl}/api/products/${id}`;
  const verifications = async () => ({
    gateway: await readSeries(gateway.url!, METRIC),
    catalog: await readSeries(catalog.url!, METRIC),
  });
  const countsBefore = await verifications();
  let token: Login = await login(system.gatewayUrl, customer);
  let logins = 1;
  const headersOf = (setup: Setup): Record<string, string> =>
    setup === 'authenticated' ? { authorization: `Bearer ${token.accessToken}` } : {};

  // The two setups answer alike, and a token on this public route really is checked.
  const anonymous = await status(url);
  const authenticated = await status(url, headersOf('authenticated'));
  const forged = await status(url, { authorization: `Bearer ${token.accessToken.slice(0, -4)}AAAA` });
  if (anonymous.status !== 200 || authenticated.status !== 200) {
    throw new Error(
      `GET ${url} answered ${anonymous.status} anonymous, ${authenticated.status} with a token`,
    );
  }
  if (forged.status !== 401) throw new Error(`a forged token was answered ${forged.status}, not 401`);

  const pins = pinAll();
  console.log(`${NAME}: ${describePins(pins)}; load generator on CPU ${LOAD_CPU}`);
  console.log(
    `${NAME}: GET /api/products/${id} through the gateway at ${CONNECTIONS} connections, anonymous vs with the customer's token; ${ROUNDS} round(s) of ${SECONDS} s per setup after ${WARMUP} s warm-up`,
  );

  const systemPids = () => [
    process.pid,
    ...descendants(process.pid).filter((pid) => processKind(pid) !== 'load generator'),
  ];
  const timeoutMs = (WARMUP + SECONDS) * 1000 + 60_000;
  // Requests that sent a token: the two checks above, then every answered one under load.
  let authenticatedResponses = 2;
  let authenticatedRuns = 0;

  const measure = async (setup: Setup, round: number, seconds: number) => {
    if (setup === 'authenticated' && token.expiresAt - Date.now() < seconds * 1000 + TOKEN_MARGIN_MS) {
      token = await login(system.gatewayUrl, customer);
      logins++;
      console.log(`${NAME}: the token would expire during the round: logged in again`);
    }
    const oursBefore = new Map(systemPids().map((pid) => [pid, processCpuMs(pid)]));
    const startedMs = performance.now();
    const before = {
      cpu: cpuSnapshot(),
      gateway: processCpuMs(gateway.pid!),
      catalog: processCpuMs(catalog.pid!),
    };
    const figures = await runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      { url, connections: CONNECTIONS, seconds, headers: headersOf(setup) },
      { cpus: LOAD_CPU, timeoutMs },
    );
    const busy = cpuBusy(before.cpu, cpuSnapshot());
    const elapsedMs = performance.now() - startedMs;
    let oursMs = 0;
    for (const pid of systemPids()) oursMs += processCpuMs(pid) - (oursBefore.get(pid) ?? 0);
    const perReq = (ms: number) => (figures.ok > 0 ? (ms * 1000) / figures.ok : Number.NaN);
    if (setup === 'authenticated') {
      authenticatedResponses += figures.responses;
      authenticatedRuns++;
    }
    const m: Measurement = {
      ...figures,
      setup,
      round,
      cpu0: busy[0] ?? Number.NaN,
      cpu1: busy[1] ?? Number.NaN,
      cpu0Others: Math.max(0, (busy[0] ?? 0) - oursMs / elapsedMs),
      systemUsPerReq: perReq(oursMs),
      gatewayUsPerReq: perReq(processCpuMs(gateway.pid!) - before.gateway),
      catalogUsPerReq: perReq(processCpuMs(catalog.pid!) - before.catalog),
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
    const order = round % 2 === 1 ? SETUPS : [...SETUPS].reverse();
    for (const setup of order) {
      const m = await measure(setup, round, SECONDS);
      rounds.push(m);
      console.log(
        `${NAME}: round ${round} ${setup.padEnd(13)} ${fmt(m.rps, 0).padStart(6)} req/s  p50 ${fmt(m.p50Ms, 2)} ms  p99 ${fmt(m.p99Ms, 2)} ms  non-2xx ${m.non2xx}  errors ${m.errors}  cpu0 ${fmt(m.cpu0 * 100, 0)}% (others ${fmt(m.cpu0Others * 100, 0)}%)  loadgen ${fmt(m.cpuShare * 100, 0)}%`,
      );
    }
  }
  const countsAfter = await verifications();
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
        loadgenCpuShare: med(setup, 'cpuShare'),
        systemUsPerReq: med(setup, 'systemUsPerReq'),
        gatewayUsPerReq: med(setup, 'gatewayUsPerReq'),
        catalogUsPerReq: med(setup, 'catalogUsPerReq'),
      },
    ]),
  ) as unknown as Record<Setup, Record<string, number>>;

  const pair = (round: number) => ({
    auth: rounds.find((r) => r.setup === 'authenticated' && r.round === round)!,
    anon: rounds.find((r) => r.setup === 'anonymous' && r.round === round)!,
  });
  const perRound = (f: (p: { auth: Measurement; anon: Measurement }) => number) =>
    Array.from({ length: ROUNDS }, (_, i) => f(pair(i + 1)));
  const rpsRatios = perRound(({ auth, anon }) => auth.rps / anon.rps);
  // Requests per CPU-second of our processes on CPU 0: what req/s would be without other work there.
  const cpuRatios = perRound(({ auth, anon }) => anon.systemUsPerReq / auth.systemUsPerReq);
  const p50Ratios = perRound(({ auth, anon }) => auth.p50Ms / anon.p50Ms);
  const p99Ratios = perRound(({ auth, anon }) => auth.p99Ms / anon.p99Ms);

  console.log(
    `\n${NAME}: GET /api/products/:id through the gateway, ${CONNECTIONS} connections, median of ${ROUNDS} × ${SECONDS} s`,
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
        'gateway µs/req',
        'catalog µs/req',
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
          fmt(s.gatewayUsPerReq, 0),
          fmt(s.catalogUsPerReq, 0),
        ];
      }),
    ),
  );
  const list = (xs: number[]) => xs.map((x) => fmt(x, 3)).join(' ');
  const spread = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return `${fmt(sorted[0], 2)} … ${fmt(sorted.at(-1), 2)} (middle half ${fmt(at(0.25), 2)} … ${fmt(at(0.75), 2)})`;
  };
  console.log(
    `per-round authenticated÷anonymous: req/s ${list(rpsRatios)}; req per CPU-s ${list(cpuRatios)}; p99 ${list(p99Ratios)}`,
  );
  console.log(`spread of the per-round req/s ratios: ${spread(rpsRatios)}`);

  const deltas: Record<'gateway' | 'catalog', Series> = {
    gateway: seriesDelta(countsBefore.gateway, countsAfter.gateway),
    catalog: seriesDelta(countsBefore.catalog, countsAfter.catalog),
  };
  const verificationRows: string[][] = [];
  for (const instance of ['gateway', 'catalog'] as const) {
    const keys = new Set([...Object.keys(countsBefore[instance]), ...Object.keys(countsAfter[instance])]);
    for (const key of [...keys].sort()) {
      verificationRows.push([
        instance,
        key,
        String(countsBefore[instance][key] ?? 0),
        String(countsAfter[instance][key] ?? 0),
        String(deltas[instance][key] ?? 0),
      ]);
    }
  }
  console.log(
    `\n${METRIC} before the first token and after the load (${authenticatedResponses} requests with a token answered, 1 of them forged; ${logins} login(s))`,
  );
  console.log(table(['instance', 'series', 'before', 'after', 'during the load'], verificationRows));
  const access = (instance: 'gateway' | 'catalog', outcome: string) =>
    seriesSum(deltas[instance], { kind: 'access', outcome });
  const hitShare = (instance: 'gateway' | 'catalog') => {
    const cached = access(instance, 'cached');
    const all = cached + access(instance, 'verified') + access(instance, 'rejected');
    return all > 0 ? cached / all : Number.NaN;
  };
  console.log(
    `access tokens answered from the cache: gateway ${fmt(hitShare('gateway') * 100, 3)}%, catalog ${fmt(hitShare('catalog') * 100, 3)}%`,
  );

  const rpsRatio = median(rpsRatios);
  const cpuRatio = median(cpuRatios);
  const ratios: Ratio[] = [
    {
      name: 'authenticated ÷ anonymous (req/s)',
      value: rpsRatio,
      goal: `>= ${GOAL}`,
      met: rpsRatio >= GOAL,
    },
    {
      name: 'authenticated ÷ anonymous (req per CPU-s on CPU 0)',
      value: cpuRatio,
      goal: `>= ${GOAL}`,
      met: cpuRatio >= GOAL,
    },
    { name: 'authenticated ÷ anonymous (p50 latency)', value: median(p50Ratios) },
    { name: 'authenticated ÷ anonymous (p99 latency)', value: median(p99Ratios) },
    { name: 'gateway: access tokens answered from the cache (share)', value: hitShare('gateway') },
    { name: 'catalog: access tokens answered from the cache (share)', value: hitShare('catalog') },
  ];
  const notes = [
    'Both setups go through the gateway to the one catalog instance (catalog ×1); the token is checked at both.',
    `One access token (the bootstrap customer's) is sent on every authenticated request: a best case for the verified-token caches (${logins} login(s) in the run).`,
    `Every system process is pinned to CPU 0; autocannon runs alone on CPU 1 (${describePins(pins)}).`,
    `Log level ${BENCH_LOG_LEVEL}: no per-request access log. The gateway's per-user and per-address rate limits are off.`,
    '"req per CPU-s on CPU 0" divides requests by the CPU time our own processes used, so work of other users on CPU 0 (the "others" share) does not move it; req/s does.',
    `The per-round authenticated ÷ anonymous req/s ratios spread ${spread(rpsRatios)}: the judged figure is their median.`,
  ];
  const gatewayAccess =
    access('gateway', 'cached') + access('gateway', 'verified') + access('gateway', 'rejected');
  // Requests still in flight when a run stops are checked at the gateway but never answered.
  const inFlight = authenticatedRuns * CONNECTIONS;
  if (gatewayAccess < authenticatedResponses || gatewayAccess > authenticatedResponses + inFlight) {
    notes.push(
      `The gateway counted ${gatewayAccess} access-token checks for ${authenticatedResponses} requests with a token answered (+ up to ${inFlight} in flight at the ends of runs): the counts do not match.`,
    );
  }
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
      bodyBytes: { anonymous: anonymous.bytes, authenticated: authenticated.bytes },
      cacheControl: { anonymous: anonymous.cacheControl, authenticated: authenticated.cacheControl },
    },
    figures: {
      summary,
      rounds,
      pins,
      logins,
      authenticatedResponses,
      verifications: { before: countsBefore, after: countsAfter, delta: deltas },
    },
    ratios,
    notes,
  };
}

if (import.meta.main) {
  await runAsProgram(NAME, main, {
    timeLimitMs: 180_000 + SETUPS.length * (WARMUP + ROUNDS * (SECONDS + 10)) * 1000 * 1.5,
  });
}
