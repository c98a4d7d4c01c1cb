/**
 * Telemetry overhead: the same work with telemetry on and off, on two embedded systems started
 * side by side. On: as shipped — every request, call, transaction and event gets a span (or, in an
 * unsampled trace, a light record that becomes a span only if it fails), new traces are sampled at
 * Bazaar's default (1 % plus up to 10 a second per instance), sampled and failed spans are exported
 * to the gateway's collector, request and call metrics are observed. Off: `BAZAAR_TRACING=off`,
 * `BAZAAR_REQUEST_METRICS=false`. A third setup, every trace, is the "on" system with every
 * service's `tracing` set to sample everything through the config center for the window (as an
 * operator would during an incident), then set back. Both systems run on CPU 0, the load
 * generator on CPU 1; only one system is loaded at a time. Two systems, not three: an idle system
 * is not silent (heartbeats, polls, scrapes: about 13 % of CPU 0 here), and each one more slows
 * whichever is measured.
 *
 * Steady state is what is compared: each setup is first warmed up with BENCH_TELEMETRY_WARMUP
 * seconds of reads and of checkouts. On this machine a process's CPU per request keeps falling for
 * tens of seconds of load (V8's optimising compiler shares CPU 0 with the whole system), and a
 * short warm-up measured which system was further along, not what telemetry costs. Between
 * windows the systems are let go quiet: back to their measured idle use plus 5 % of CPU 0.
 *
 * Work, alternated round by round between the setups (the order rotates each round):
 *   reads    — autocannon, C connections, a cached product read through the gateway;
 *   checkout — K closed loops, each its own customer: put one line, check out, poll until CONFIRMED.
 * Judged: reads/s and confirmed orders/s of on ÷ off, per round, median over rounds (goal ≥ 0.9);
 * every trace ÷ off is printed beside them, without a goal.
 *
 * Settings (environment): BENCH_TELEMETRY_CONNECTIONS (32), BENCH_TELEMETRY_CLIENTS (8),
 * BENCH_TELEMETRY_SECONDS per window (8), BENCH_TELEMETRY_ROUNDS (5), BENCH_TELEMETRY_WARMUP
 * seconds of each load per setup (40).
 */
import { join } from 'node:path';
import { type ConfigDocument, LiveConfigSchemas, type OpsServiceList } from '@bazaar/contracts';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
import type { CheckoutFigures } from './lib/checkout-worker.ts';
import {
  type BenchResult,
  envNumber,
  fmt,
  median,
  runAsProgram,
  runWorker,
  sleep,
  table,
} from './lib/common.ts';
import { login } from './lib/identity.ts';
import { alternate, medianOf, roundRatios, settle, type Usage, withUsage } from './lib/rounds.ts';
import { BENCH_ADDRESS, loggedInCustomers, stockedProducts } from './lib/shop.ts';
import { describePins, LOAD_CPU, someProductId, startBenchSystem } from './lib/system.ts';

const NAME = 'telemetry';
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CONNECTIONS', 32)));
const CLIENTS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CLIENTS', 8)));
const SECONDS = envNumber('BENCH_TELEMETRY_SECONDS', 8);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_ROUNDS', 5)));
const WARMUP = envNumber('BENCH_TELEMETRY_WARMUP', 40);
const GOAL = 0.9;

type Setup = 'on' | 'every' | 'off';
const SETUPS: Setup[] = ['on', 'every', 'off'];
const ENV: Record<'on' | 'off', Record<string, string>> = {
  on: {},
  off: { BAZAAR_TRACING: 'off', BAZAAR_REQUEST_METRICS: 'false' },
};

interface Target {
  gatewayUrl: string;
  readUrl: string;
  clients: { accessToken: string; productIds: string[] }[];
}

interface Window {
  reads: AutocannonFigures;
  checkout: CheckoutFigures;
  readUsage: Usage;
  checkoutUsage: Usage;
}

async function prepare(
  gatewayUrl: string,
  merchantAccount: { email: string; password: string },
): Promise<Target> {
  const merchant = await login(gatewayUrl, merchantAccount);
  const customers = await loggedInCustomers(gatewayUrl, CLIENTS);
  const productIds = await stockedProducts(gatewayUrl, merchant.accessToken, {
    count: CLIENTS,
    onHand: 1_000_000,
  });
  return {
    gatewayUrl,
    readUrl: `${gatewayUrl}/api/products/${await someProductId(gatewayUrl)}`,
    clients: customers.map((c, i) => ({ accessToken: c.accessToken, productIds: [productIds[i]!] })),
  };
}

/** The kinds of process that used most CPU in a window (every system's together), as shares of a core. */
function topKinds(usage: Usage, n = 4): string {
  return Object.entries(usage.cpuMs)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([kind, ms]) => `${kind} ${fmt((ms / usage.elapsedMs) * 100, 0)}%`)
    .join(', ');
}

/** The two systems: telemetry as shipped (also measured with every trace sampled), and off. */
type SystemName = 'on' | 'off';
const systemOf = (setup: Setup): SystemName => (setup === 'off' ? 'off' : 'on');

/** Live `tracing` values of every service: every trace sampled, or the shipped defaults (`{}`). */
const EVERY_TRACE = { sampleRatio: 1, samplesPerSecond: 0 };
const NO_LIMITS = { perAddress: 'off', perUser: 'off' };

/**
 * Sets `tracing` of every service through the config center (as an operator would during an
 * incident) and waits until every up instance reports having applied it.
 */
async function setTracing(gatewayUrl: string, adminToken: string, tracing: object): Promise<void> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200)
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const versions = new Map<string, number>();
  for (const service of Object.keys(LiveConfigSchemas)) {
    const current = (await call('GET', `/api/ops/config/${service}`)) as unknown as ConfigDocument;
    const values: Record<string, unknown> = { ...current.values, tracing };
    // A first version replaces the environment's settings with the schema's defaults: keep the
    // gateway's per-address and per-user limits off, as the benchmark started them.
    if (service === 'gateway') values.rateLimits = { ...(values.rateLimits as object), ...NO_LIMITS };
    const changed = (await call('PUT', `/api/ops/config/${service}`, {
      values,
      reason: 'telemetry benchmark',
      expectedVersion: current.version,
    })) as unknown as ConfigDocument;
    versions.set(service, changed.version);
  }
  const until = Date.now() + 30_000;
  for (;;) {
    const list = (await call('GET', '/api/ops/services')) as unknown as OpsServiceList;
    const behind = list.items.flatMap((s) =>
      s.instances.filter(
        (i) => i.status === 'up' && versions.has(s.name) && i.config?.version !== versions.get(s.name),
      ),
    );
    if (behind.length === 0) return;
    if (Date.now() > until)
      throw new Error(`instances did not apply the tracing change: ${behind.map((i) => i.id).join(', ')}`);
    await sleep(200);
  }
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting two systems (telemetry on as shipped, off)…`);
  const targets = {} as Record<SystemName, Target>;
  const benches = [];
  let adminToken = '';
  for (const name of ['on', 'off'] as const) {
    const bench = await startBenchSystem({ env: ENV[name] });
    benches.push(bench);
    const users = bench.system.bootstrapUsers?.users;
    if (!users) throw new Error('the system has no bootstrap users');
    targets[name] = await prepare(bench.system.gatewayUrl, users.merchant);
    if (name === 'on') adminToken = (await login(bench.system.gatewayUrl, users.admin)).accessToken;
  }
  const pins = benches.map((b) => b.pinAll()).at(-1)!;
  console.log(`${NAME}: ${describePins(pins)}; load generator on CPU ${LOAD_CPU}`);

  const timeoutMs = (SECONDS + WARMUP) * 1000 + 120_000;
  const reads = (t: Target, seconds: number) =>
    runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      { url: t.readUrl, connections: CONNECTIONS, seconds },
      { cpus: LOAD_CPU, timeoutMs },
    );
  const checkouts = (t: Target, seconds: number) =>
    runWorker<CheckoutFigures>(
      join(import.meta.dirname, 'lib', 'checkout-worker.ts'),
      { gatewayUrl: t.gatewayUrl, clients: t.clients, seconds, shippingAddress: BENCH_ADDRESS },
      { cpus: LOAD_CPU, timeoutMs },
    );
  /** Runs `work` with the "on" system sampling every trace when `setup` is `every`. */
  const inSetup = async <T>(setup: Setup, work: () => Promise<T>): Promise<T> => {
    if (setup !== 'every') return work();
    await setTracing(targets.on.gatewayUrl, adminToken, EVERY_TRACE);
    try {
      return await work();
    } finally {
      await setTracing(targets.on.gatewayUrl, adminToken, {});
    }
  };

  if (WARMUP > 0) {
    console.log(`${NAME}: warming up each setup (${WARMUP} s of reads and of checkouts)…`);
    for (const setup of SETUPS) {
      await inSetup(setup, async () => {
        await reads(targets[systemOf(setup)], WARMUP);
        await checkouts(targets[systemOf(setup)], WARMUP);
      });
    }
  }
  // Two idle systems are not silent (heartbeats, polls, scrapes): "quiet" is measured, not assumed.
  await sleep(5_000);
  const idle = await withUsage(() => sleep(5_000));
  const quiet = idle.usage.oursMs / idle.usage.elapsedMs + 0.05;
  console.log(
    `${NAME}: both systems idle use ${fmt((quiet - 0.05) * 100, 0)}% of CPU 0; quiet is below ${fmt(quiet * 100, 0)}%`,
  );

  const results = await alternate<Setup, Window>({
    setups: SETUPS,
    rounds: ROUNDS,
    measure: (setup) =>
      inSetup(setup, async () => {
        const target = targets[systemOf(setup)];
        await settle({ share: quiet });
        const r = await withUsage(() => reads(target, SECONDS));
        await settle({ share: quiet });
        const c = await withUsage(() => checkouts(target, SECONDS));
        return { reads: r.result, readUsage: r.usage, checkout: c.result, checkoutUsage: c.usage };
      }),
    report: ({ setup, round, m }) =>
      console.log(
        `${NAME}: round ${round} telemetry ${setup.padEnd(5)}  reads ${fmt(m.reads.rps, 0).padStart(6)}/s p99 ${fmt(m.reads.p99Ms, 1)} ms non-2xx ${m.reads.non2xx}  checkout ${fmt(m.checkout.ordersPerSecond, 1).padStart(5)}/s p99 to CONFIRMED ${fmt(m.checkout.toConfirmed.p99Ms, 1)} ms  cpu0 ${fmt(m.readUsage.cpu0 * 100, 0)}% / ${fmt(m.checkoutUsage.cpu0 * 100, 0)}%; reads' CPU: ${topKinds(m.readUsage)}`,
      ),
  });

  const readRatios = roundRatios(results, 'on', 'off', (m) => m.reads.rps);
  const checkoutRatios = roundRatios(results, 'on', 'off', (m) => m.checkout.ordersPerSecond);
  const everyReadRatios = roundRatios(results, 'every', 'off', (m) => m.reads.rps);
  const everyCheckoutRatios = roundRatios(results, 'every', 'off', (m) => m.checkout.ordersPerSecond);
  const med = (setup: Setup, f: (m: Window) => number) => medianOf(results, setup, f);
  const rows = SETUPS.map((setup) => [
    setup,
    fmt(
      med(setup, (m) => m.reads.rps),
      0,
    ),
    fmt(
      med(setup, (m) => m.reads.p99Ms),
      1,
    ),
    fmt(
      med(setup, (m) => (m.readUsage.oursMs / m.reads.responses) * 1000),
      0,
    ),
    fmt(
      med(setup, (m) => m.checkout.ordersPerSecond),
      1,
    ),
    fmt(
      med(setup, (m) => m.checkout.toConfirmed.p99Ms),
      1,
    ),
    fmt(
      med(setup, (m) => m.checkoutUsage.oursMs / m.checkout.confirmed),
      1,
    ),
  ]);
  console.log(
    `\n${NAME}: median of ${ROUNDS} rounds of ${SECONDS} s windows; systems on CPU 0, load on CPU 1`,
  );
  console.log(
    table(
      [
        'telemetry',
        'reads/s',
        'read p99 ms',
        'CPU µs/read',
        'orders/s',
        'to CONFIRMED p99 ms',
        'CPU ms/order',
      ],
      rows,
    ),
  );
  const readRatio = median(readRatios);
  const checkoutRatio = median(checkoutRatios);
  const everyReadRatio = median(everyReadRatios);
  const everyCheckoutRatio = median(everyCheckoutRatios);
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      connections: CONNECTIONS,
      clients: CLIENTS,
      seconds: SECONDS,
      rounds: ROUNDS,
      warmup: WARMUP,
    },
    figures: {
      readRatios,
      checkoutRatios,
      everyReadRatios,
      everyCheckoutRatios,
      rounds: results.map((r) => ({
        setup: r.setup,
        round: r.round,
        readsPerSecond: r.m.reads.rps,
        ordersPerSecond: r.m.checkout.ordersPerSecond,
      })),
    },
    ratios: [
      {
        name: 'gateway reads/s, telemetry on ÷ off',
        value: readRatio,
        goal: `>= ${GOAL}`,
        met: readRatio >= GOAL,
      },
      {
        name: 'checkout orders/s, telemetry on ÷ off',
        value: checkoutRatio,
        goal: `>= ${GOAL}`,
        met: checkoutRatio >= GOAL,
      },
      { name: 'gateway reads/s, every trace ÷ off', value: everyReadRatio },
      { name: 'checkout orders/s, every trace ÷ off', value: everyCheckoutRatio },
    ],
    notes: [
      'on: as shipped: a span (or, for an unsampled trace, a light record made a span only if it fails) for every request, call, transaction and event; new traces sampled at 1 % plus up to 10 a second per instance; sampled and failed spans exported to the embedded collector; request and call metrics observed',
      'every: the "on" system with every service\'s tracing set to sampleRatio 1, samplesPerSecond 0 through the config center for the window: every span of every trace exported (OTLP JSON over HTTP to the gateway)',
      'off: BAZAAR_TRACING=off and BAZAAR_REQUEST_METRICS=false',
      `each system warmed up with ${WARMUP} s of reads and ${WARMUP} s of checkouts before the rounds`,
    ],
  };
}

await runAsProgram(NAME, main, { timeLimitMs: 20 * 60_000 });
