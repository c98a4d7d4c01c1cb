/**
 * Telemetry overhead: the same work with telemetry on and off, on two embedded systems loaded at
 * the same time. On: as shipped — every request, call, transaction and event gets a span (or, in an
 * unsampled trace, a light record that becomes a span only if it fails), new traces are sampled at
 * Bazaar's default (1 % plus up to 10 a second per instance), sampled and failed spans are exported
 * to the gateway's collector, request and call metrics are observed. Off: `BAZAAR_TRACING=off`,
 * `BAZAAR_REQUEST_METRICS=false`. A second comparison, every trace, is the "on" system with every
 * service's `tracing` set to sample everything through the config center for the window (as an
 * operator would during an incident), then set back.
 *
 * Why at the same time: on this machine the same work's throughput drifts by ±30 % from one 8 s
 * window to the next (a single system, nothing else running, CPU per request of the gateway and
 * of catalog rising and falling together: the virtual machine's CPU, not our processes), more than
 * the difference to be measured, so windows taken one after the other compare moments, not
 * setups. Both systems get the same load at once, each system with its own load generator on a
 * core of its own (sharing one core made the scheduler's split between them a second source of
 * noise), and the two swap cores every round. Two figures per window:
 *   throughput — reads/s (orders/s) of on ÷ off;
 *   cost       — CPU per read (per order) of off ÷ on, each system's processes counted apart
 *                (the load generator on the same core is not counted).
 * The two cores are not alike (whichever system has CPU 0 gets ahead, by up to 20 %), so each
 * figure is the geometric mean of its median over the rounds with "on" on CPU 0 and its median
 * over those with "on" on CPU 1. The goal (≥ 0.9) is met only when both figures meet it. The
 * throughput figure leans a little towards 1 (the load generator's share of the core is the same
 * on both sides); the cost one does not.
 *
 * Steady state is what is compared: both systems are first warmed up together with
 * BENCH_TELEMETRY_WARMUP seconds of reads and of checkouts (a process's CPU per request keeps
 * falling for tens of seconds of load while V8 optimises). Between windows the systems are let go
 * quiet: back to their measured idle use plus 5 % of a core.
 *
 * Work, per window, the same on both systems:
 *   reads    — autocannon, C connections, a cached product read through the gateway;
 *   checkout — K closed loops, each its own customer: put one line, check out, poll until CONFIRMED.
 * Rounds alternate the two comparisons (on against off, every trace against off).
 *
 * Settings (environment): BENCH_TELEMETRY_CONNECTIONS (32), BENCH_TELEMETRY_CLIENTS (8),
 * BENCH_TELEMETRY_SECONDS per read window (8), BENCH_TELEMETRY_CHECKOUT_SECONDS per checkout window
 * (10: a window holds about 150 orders), BENCH_TELEMETRY_ROUNDS (10, half with each core), BENCH_TELEMETRY_WARMUP
 * seconds of each load (60).
 */
import { join } from 'node:path';
import { type ConfigDocument, LiveConfigSchemas, type OpsServiceList } from '@bazaar/contracts';
import type { System } from '../packages/cli/src/system.ts';
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
import { type Credentials, login } from './lib/identity.ts';
import { alternate, medianOf, settle, type Usage, withUsage } from './lib/rounds.ts';
import { BENCH_ADDRESS, loggedInCustomers, stockedProducts } from './lib/shop.ts';
import { cpuUsedBetween, pinSystem, someProductId, startBenchSystem, systemCpu } from './lib/system.ts';

const NAME = 'telemetry';
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CONNECTIONS', 32)));
const CLIENTS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CLIENTS', 8)));
const SECONDS = envNumber('BENCH_TELEMETRY_SECONDS', 8);
const CHECKOUT_SECONDS = envNumber('BENCH_TELEMETRY_CHECKOUT_SECONDS', 10);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_ROUNDS', 10)));
const WARMUP = envNumber('BENCH_TELEMETRY_WARMUP', 60);
const GOAL = 0.9;

/** What is compared with off: telemetry as shipped, or the same system sampling every trace. */
type Setup = 'on' | 'every';
const SETUPS: Setup[] = ['on', 'every'];
type SystemName = 'on' | 'off';
const ENV: Record<SystemName, Record<string, string>> = {
  on: {},
  off: { BAZAAR_TRACING: 'off', BAZAAR_REQUEST_METRICS: 'false' },
};

interface Target {
  gatewayUrl: string;
  readUrl: string;
  clients: { accessToken: string; productIds: string[] }[];
  /** The customers behind `clients`, in the same order (to log in again when tokens run out). */
  customers: Credentials[];
}

/** Access tokens last 15 minutes; a run is longer, so logins are renewed after this. */
const RENEW_LOGINS_MS = 8 * 60_000;

/** One system's part of a window: what its load generator measured, and the CPU its processes used. */
interface Side<F> {
  figures: F;
  cpuMs: number;
  /** The core the system and its load generator ran on. */
  core: string;
}

/** A window of reads and one of checkouts, each on both systems at once. */
interface Window {
  reads: Record<SystemName, Side<AutocannonFigures>>;
  checkout: Record<SystemName, Side<CheckoutFigures>>;
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
    customers: customers.map(({ email, password }) => ({ email, password })),
  };
}

/** Logs every customer of `target` in again. */
async function renewLogins(target: Target): Promise<void> {
  for (const [i, customer] of target.customers.entries()) {
    target.clients[i]!.accessToken = (await login(target.gatewayUrl, customer)).accessToken;
  }
}

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
  const systems = {} as Record<SystemName, System>;
  let adminToken = '';
  let admin: Credentials | undefined;
  let loggedInAt = Date.now();
  for (const name of ['on', 'off'] as const) {
    const bench = await startBenchSystem({ env: ENV[name] });
    systems[name] = bench.system;
    const users = bench.system.bootstrapUsers?.users;
    if (!users) throw new Error('the system has no bootstrap users');
    targets[name] = await prepare(bench.system.gatewayUrl, users.merchant);
    if (name === 'on') {
      admin = users.admin;
      adminToken = (await login(bench.system.gatewayUrl, admin)).accessToken;
    }
  }
  /** Each system's core; swapped every round, so neither system always has the same one. */
  const cores: Record<SystemName, string> = { on: '', off: '' };
  const placeOnCores = (round: number) => {
    const on = round % 2 === 1 ? '0' : '1';
    if (cores.on === on) return;
    cores.on = on;
    cores.off = on === '0' ? '1' : '0';
    for (const name of ['on', 'off'] as const) pinSystem(systems[name], cores[name]);
  };
  placeOnCores(1);

  const timeoutMs = (Math.max(SECONDS, CHECKOUT_SECONDS) + WARMUP) * 1000 + 120_000;
  const reads = (t: Target, seconds: number, cpus: string) =>
    runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      { url: t.readUrl, connections: CONNECTIONS, seconds },
      { cpus, timeoutMs },
    );
  const checkouts = (t: Target, seconds: number, cpus: string) =>
    runWorker<CheckoutFigures>(
      join(import.meta.dirname, 'lib', 'checkout-worker.ts'),
      { gatewayUrl: t.gatewayUrl, clients: t.clients, seconds, shippingAddress: BENCH_ADDRESS },
      { cpus, timeoutMs },
    );
  /**
   * The same work on both systems at once, each system and its load generator on its own core,
   * with the CPU each system's processes used meanwhile.
   */
  const together = async <F>(
    work: (t: Target, cpus: string) => Promise<F>,
  ): Promise<{ result: Record<SystemName, Side<F>>; usage: Usage }> => {
    const before = { on: systemCpu(systems.on), off: systemCpu(systems.off) };
    const { result, usage } = await withUsage(() =>
      Promise.all([work(targets.on, cores.on), work(targets.off, cores.off)]),
    );
    const side = (name: SystemName, figures: F): Side<F> => ({
      figures,
      cpuMs: cpuUsedBetween(before[name], systemCpu(systems[name])),
      core: cores[name],
    });
    return { result: { on: side('on', result[0]), off: side('off', result[1]) }, usage };
  };
  /** Runs `work` with the "on" system sampling every trace when `setup` is `every`. */
  const inSetup = async <T>(setup: Setup, work: () => Promise<T>): Promise<T> => {
    if (Date.now() - loggedInAt > RENEW_LOGINS_MS) {
      for (const name of ['on', 'off'] as const) await renewLogins(targets[name]);
      adminToken = (await login(targets.on.gatewayUrl, admin!)).accessToken;
      loggedInAt = Date.now();
    }
    if (setup !== 'every') return work();
    await setTracing(targets.on.gatewayUrl, adminToken, EVERY_TRACE);
    try {
      return await work();
    } finally {
      await setTracing(targets.on.gatewayUrl, adminToken, {});
    }
  };

  if (WARMUP > 0) {
    console.log(`${NAME}: warming up both systems together (${WARMUP} s of reads, then of checkouts)…`);
    await together((t, cpus) => reads(t, WARMUP, cpus));
    await together((t, cpus) => checkouts(t, WARMUP, cpus));
  }
  // Two idle systems are not silent (heartbeats, polls, scrapes): "quiet" is measured, not assumed.
  await sleep(5_000);
  const idle = await withUsage(() => sleep(5_000));
  const quiet = idle.usage.oursMs / idle.usage.elapsedMs + 0.05;
  console.log(
    `${NAME}: both systems idle use ${fmt((quiet - 0.05) * 100, 0)}% of a core; quiet is below ${fmt(quiet * 100, 0)}%`,
  );

  const share = (side: Side<unknown>, usage: Usage) =>
    `CPU ${side.core} ${fmt((side.cpuMs / usage.elapsedMs) * 100, 0)}%`;
  const results = await alternate<Setup, Window>({
    setups: SETUPS,
    rounds: ROUNDS,
    measure: (setup, round) =>
      inSetup(setup, async () => {
        placeOnCores(round);
        await settle({ share: quiet });
        const r = await together((t, cpus) => reads(t, SECONDS, cpus));
        await settle({ share: quiet });
        const c = await together((t, cpus) => checkouts(t, CHECKOUT_SECONDS, cpus));
        return { reads: r.result, readUsage: r.usage, checkout: c.result, checkoutUsage: c.usage };
      }),
    report: ({ setup, round, m }) => {
      const line = (name: SystemName) =>
        `${name === 'on' ? setup : 'off'} ${fmt(m.reads[name].figures.rps, 0)} reads/s (${fmt(perRead(m.reads[name]), 0)} µs, ${share(m.reads[name], m.readUsage)}), ${fmt(m.checkout[name].figures.ordersPerSecond, 1)} orders/s (${fmt(perOrder(m.checkout[name]), 1)} ms, ${share(m.checkout[name], m.checkoutUsage)})`;
      console.log(`${NAME}: round ${round}  ${line('on')}  |  ${line('off')}`);
    },
  });

  /**
   * Per window, a setup's ratios to off, and the core the setup's system had. The two cores are
   * not alike here (whichever system has CPU 0 gets ahead), so a ratio is judged as the geometric
   * mean of its median with the setup on CPU 0 and its median with the setup on CPU 1: a constant
   * difference between the cores cancels out.
   */
  const ratiosOf = (setup: Setup) => {
    const windows = results.filter((r) => r.setup === setup).map((r) => r.m);
    const judged = (values: number[]) => {
      const byCore = ['0', '1'].map((core) =>
        median(values.filter((_, i) => windows[i]!.reads.on.core === core)),
      );
      return byCore.every(Number.isFinite) ? Math.sqrt(byCore[0]! * byCore[1]!) : median(values);
    };
    const perWindow = {
      reads: windows.map((m) => m.reads.on.figures.rps / m.reads.off.figures.rps),
      readCost: windows.map((m) => perRead(m.reads.off) / perRead(m.reads.on)),
      checkout: windows.map(
        (m) => m.checkout.on.figures.ordersPerSecond / m.checkout.off.figures.ordersPerSecond,
      ),
      checkoutCost: windows.map((m) => perOrder(m.checkout.off) / perOrder(m.checkout.on)),
    };
    return {
      perWindow,
      cores: windows.map((m) => m.reads.on.core),
      reads: judged(perWindow.reads),
      readCost: judged(perWindow.readCost),
      checkout: judged(perWindow.checkout),
      checkoutCost: judged(perWindow.checkoutCost),
    };
  };
  const on = ratiosOf('on');
  const every = ratiosOf('every');
  const sideMedian = (setup: Setup, name: SystemName, f: (m: Window, name: SystemName) => number) =>
    medianOf(results, setup, (m) => f(m, name));
  const rows = SETUPS.flatMap((setup) =>
    (['on', 'off'] as const).map((name) => [
      `${name === 'on' ? setup : 'off'} (beside ${name === 'on' ? 'off' : setup})`,
      fmt(
        sideMedian(setup, name, (m, n) => m.reads[n].figures.rps),
        0,
      ),
      fmt(
        sideMedian(setup, name, (m, n) => m.reads[n].figures.p99Ms),
        1,
      ),
      fmt(
        sideMedian(setup, name, (m, n) => perRead(m.reads[n])),
        0,
      ),
      fmt(
        sideMedian(setup, name, (m, n) => m.checkout[n].figures.ordersPerSecond),
        1,
      ),
      fmt(
        sideMedian(setup, name, (m, n) => m.checkout[n].figures.toConfirmed.p99Ms),
        1,
      ),
      fmt(
        sideMedian(setup, name, (m, n) => perOrder(m.checkout[n])),
        1,
      ),
    ]),
  );
  console.log(
    `\n${NAME}: medians of ${ROUNDS} windows (reads ${SECONDS} s, checkout ${CHECKOUT_SECONDS} s) per comparison; both systems loaded at once, each with its load generator on its own core (swapped every round); ratios: geometric mean of the medians with each core`,
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
  const readRatio = on.reads;
  const readCostRatio = on.readCost;
  const checkoutRatio = on.checkout;
  const checkoutCostRatio = on.checkoutCost;
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      connections: CONNECTIONS,
      clients: CLIENTS,
      seconds: SECONDS,
      checkoutSeconds: CHECKOUT_SECONDS,
      rounds: ROUNDS,
      warmup: WARMUP,
    },
    figures: {
      on,
      every,
      windows: results.map((r) => ({
        setup: r.setup,
        round: r.round,
        readsPerSecond: { [r.setup]: r.m.reads.on.figures.rps, off: r.m.reads.off.figures.rps },
        ordersPerSecond: {
          [r.setup]: r.m.checkout.on.figures.ordersPerSecond,
          off: r.m.checkout.off.figures.ordersPerSecond,
        },
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
        name: 'gateway reads per CPU-second, telemetry on ÷ off',
        value: readCostRatio,
        goal: `>= ${GOAL}`,
        met: readCostRatio >= GOAL,
      },
      {
        name: 'checkout orders/s, telemetry on ÷ off',
        value: checkoutRatio,
        goal: `>= ${GOAL}`,
        met: checkoutRatio >= GOAL,
      },
      {
        name: 'checkout orders per CPU-second, telemetry on ÷ off',
        value: checkoutCostRatio,
        goal: `>= ${GOAL}`,
        met: checkoutCostRatio >= GOAL,
      },
      { name: 'gateway reads/s, every trace ÷ off', value: every.reads },
      { name: 'gateway reads per CPU-second, every trace ÷ off', value: every.readCost },
      { name: 'checkout orders/s, every trace ÷ off', value: every.checkout },
      { name: 'checkout orders per CPU-second, every trace ÷ off', value: every.checkoutCost },
    ],
    notes: [
      'on: as shipped: a span (or, for an unsampled trace, a light record made a span only if it fails) for every request, call, transaction and event; new traces sampled at 1 % plus up to 10 a second per instance; sampled and failed spans exported to the embedded collector; request and call metrics observed',
      'every: the "on" system with every service\'s tracing set to sampleRatio 1, samplesPerSecond 0 through the config center for the window: every span of every trace exported (OTLP JSON over HTTP to the gateway)',
      'off: BAZAAR_TRACING=off and BAZAAR_REQUEST_METRICS=false',
      "each window loads both systems at once, each with its load generator on its own core, the cores swapped every round: drift of this machine falls on both alike; per CPU-second counts each system's own processes",
      `both systems warmed up together with ${WARMUP} s of reads and ${WARMUP} s of checkouts before the rounds`,
    ],
  };
}

/** CPU µs of one system's processes per read it answered. */
function perRead(side: Side<AutocannonFigures>): number {
  return (side.cpuMs / side.figures.responses) * 1000;
}

/** CPU ms of one system's processes per order it confirmed. */
function perOrder(side: Side<CheckoutFigures>): number {
  return side.cpuMs / side.figures.confirmed;
}

await runAsProgram(NAME, main, { timeLimitMs: 20 * 60_000 });
