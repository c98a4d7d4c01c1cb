/**
 * Telemetry overhead: the same work on three embedded systems started side by side: telemetry on
 * (the embedded default: every trace sampled, its spans exported to the gateway's collector,
 * request and call metrics observed), sampled (the same with `OTEL_TRACES_SAMPLER_ARG=0.1`, as a
 * production would run it) and off (`BAZAAR_TRACING=off`, `BAZAAR_REQUEST_METRICS=false`). All run
 * on CPU 0, the load generator on CPU 1; only one system is loaded at a time.
 *
 * Work, alternated round by round between the systems (the order rotates each round):
 *   reads    — autocannon, C connections, a cached product read through the gateway;
 *   checkout — K closed loops, each its own customer: put one line, check out, poll until CONFIRMED.
 * Judged: reads/s and confirmed orders/s of on ÷ off and of sampled ÷ off, per round, median over
 * rounds (goal ≥ 0.9).
 *
 * Settings (environment): BENCH_TELEMETRY_CONNECTIONS (32), BENCH_TELEMETRY_CLIENTS (8),
 * BENCH_TELEMETRY_SECONDS per window (10), BENCH_TELEMETRY_ROUNDS (3), BENCH_WARMUP (5).
 */
import { join } from 'node:path';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
import type { CheckoutFigures } from './lib/checkout-worker.ts';
import { type BenchResult, envNumber, fmt, median, runAsProgram, runWorker, table } from './lib/common.ts';
import { login } from './lib/identity.ts';
import { alternate, medianOf, roundRatios, settle, type Usage, withUsage } from './lib/rounds.ts';
import { BENCH_ADDRESS, loggedInCustomers, stockedProducts } from './lib/shop.ts';
import { describePins, LOAD_CPU, someProductId, startBenchSystem } from './lib/system.ts';

const NAME = 'telemetry';
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CONNECTIONS', 32)));
const CLIENTS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CLIENTS', 8)));
const SECONDS = envNumber('BENCH_TELEMETRY_SECONDS', 10);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_ROUNDS', 3)));
const WARMUP = envNumber('BENCH_WARMUP', 5);
const GOAL = 0.9;

type Setup = 'on' | 'sampled' | 'off';
const SETUPS: Setup[] = ['on', 'sampled', 'off'];
const SAMPLED_RATIO = '0.1';
const ENV: Record<Setup, Record<string, string>> = {
  on: {},
  sampled: { OTEL_TRACES_SAMPLER_ARG: SAMPLED_RATIO },
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

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting three systems (telemetry on, sampled at ${SAMPLED_RATIO}, off)…`);
  const targets = {} as Record<Setup, Target>;
  const benches = [];
  for (const setup of SETUPS) {
    const bench = await startBenchSystem({ env: ENV[setup] });
    benches.push(bench);
    const merchant = bench.system.bootstrapUsers?.users.merchant;
    if (!merchant) throw new Error('the system has no bootstrap merchant');
    targets[setup] = await prepare(bench.system.gatewayUrl, merchant);
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

  if (WARMUP > 0) {
    console.log(`${NAME}: warming both up (${WARMUP} s of reads and of checkouts each)…`);
    for (const setup of SETUPS) {
      await reads(targets[setup], WARMUP);
      await checkouts(targets[setup], WARMUP);
      await settle();
    }
  }

  const results = await alternate<Setup, Window>({
    setups: SETUPS,
    rounds: ROUNDS,
    measure: async (setup) => {
      await settle();
      const r = await withUsage(() => reads(targets[setup], SECONDS));
      await settle();
      const c = await withUsage(() => checkouts(targets[setup], SECONDS));
      return { reads: r.result, readUsage: r.usage, checkout: c.result, checkoutUsage: c.usage };
    },
    report: ({ setup, round, m }) =>
      console.log(
        `${NAME}: round ${round} telemetry ${setup.padEnd(3)}  reads ${fmt(m.reads.rps, 0).padStart(6)}/s p99 ${fmt(m.reads.p99Ms, 1)} ms non-2xx ${m.reads.non2xx}  checkout ${fmt(m.checkout.ordersPerSecond, 1).padStart(5)}/s p99 to CONFIRMED ${fmt(m.checkout.toConfirmed.p99Ms, 1)} ms  cpu0 ${fmt(m.readUsage.cpu0 * 100, 0)}% / ${fmt(m.checkoutUsage.cpu0 * 100, 0)}%`,
      ),
  });

  const readRatios = roundRatios(results, 'on', 'off', (m) => m.reads.rps);
  const checkoutRatios = roundRatios(results, 'on', 'off', (m) => m.checkout.ordersPerSecond);
  const sampledReadRatios = roundRatios(results, 'sampled', 'off', (m) => m.reads.rps);
  const sampledCheckoutRatios = roundRatios(results, 'sampled', 'off', (m) => m.checkout.ordersPerSecond);
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
  const sampledReadRatio = median(sampledReadRatios);
  const sampledCheckoutRatio = median(sampledCheckoutRatios);
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
      sampledReadRatios,
      sampledCheckoutRatios,
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
      {
        name: `gateway reads/s, sampled at ${SAMPLED_RATIO} ÷ off`,
        value: sampledReadRatio,
        goal: `>= ${GOAL}`,
        met: sampledReadRatio >= GOAL,
      },
      {
        name: `checkout orders/s, sampled at ${SAMPLED_RATIO} ÷ off`,
        value: sampledCheckoutRatio,
        goal: `>= ${GOAL}`,
        met: sampledCheckoutRatio >= GOAL,
      },
    ],
    notes: [
      'on: every trace sampled (the embedded default): spans for every request, call, transaction and event, exported to the embedded collector',
      `sampled: OTEL_TRACES_SAMPLER_ARG=${SAMPLED_RATIO}: spans still recorded, a tenth of the traces (and every error span) exported`,
      'off: BAZAAR_TRACING=off and BAZAAR_REQUEST_METRICS=false; request and call metrics are on in both other setups',
    ],
  };
}

await runAsProgram(NAME, main, { timeLimitMs: 20 * 60_000 });
