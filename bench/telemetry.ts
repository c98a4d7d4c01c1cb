/**
 * Telemetry overhead: the same work with telemetry on and off, on two embedded systems loaded at
 * the same time. On: as shipped — every request, call, transaction and event gets a span (or, in an
 * unsampled trace, a light record that becomes a span only if it fails), new traces are sampled at
 * Bazaar's default (1 % plus up to 10 a second per instance), sampled and failed spans are exported
 * to the gateway's collector, request and call metrics are observed. Off: every service's
 * `tracing.enabled` and `metrics.requests` set to false through the config center — no span is
 * recorded at all (the code paths of `BAZAAR_TRACING=off`), requests and calls are not counted (those
 * of `BAZAAR_REQUEST_METRICS=false`). A second comparison, every trace, is the "on" system with every
 * service's `tracing` set to sample everything (as an operator would during an incident).
 *
 * Why at the same time: on this machine the same work's throughput drifts by ±30 % from one 8 s
 * window to the next (the virtual machine's CPU, not our processes), more than the difference to be
 * measured, so windows taken one after the other compare moments, not setups. Both systems get the
 * same load at once, each system with its own load generator on a core of its own.
 *
 * Why each system is on in half the rounds: two systems, identical but for their environment, do
 * not run alike. In an A/A test (both off, started one after the other) the system started first
 * cost 10–25 % more CPU per read than the other, and with the start order reversed the other way
 * round; and the cores differ too (whichever system has CPU 0 gets ahead, by up to 20 %). So both
 * systems start as shipped, and every round the config center makes one of them "off" and the other
 * "on" (or "every"): which system is on and which core it has go through all four combinations
 * every four rounds. Two figures per window:
 *   throughput — reads/s (orders/s) of on ÷ off;
 *   cost       — CPU per read (per order) of off ÷ on, each system's processes counted apart
 *                (the load generator on the same core is not counted).
 * Each figure is the geometric mean of its medians over the four combinations (system, core): a
 * constant difference between the systems or the cores cancels out. The goal (≥ 0.9) is met only
 * when both figures meet it. The throughput figure leans a little towards 1 (the load generator's
 * share of the core is the same on both sides); the cost one does not.
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
 * (10: a window holds about 150 orders), BENCH_TELEMETRY_ROUNDS per comparison (8: each of the four
 * combinations twice), BENCH_TELEMETRY_WARMUP seconds of each load (60). BENCH_TELEMETRY_CONTROL=1
 * runs the same rounds with the "on" system off too (an A/A test): its ratios show what the method
 * alone gives, and its per-window figures how far the two systems and the two cores differ.
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
import {
  BENCH_LOG_LEVEL,
  cpuUsedBetween,
  pinSystem,
  someProductId,
  startBenchSystem,
  systemCpu,
} from './lib/system.ts';

const NAME = 'telemetry';
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CONNECTIONS', 32)));
const CLIENTS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_CLIENTS', 8)));
const SECONDS = envNumber('BENCH_TELEMETRY_SECONDS', 8);
const CHECKOUT_SECONDS = envNumber('BENCH_TELEMETRY_CHECKOUT_SECONDS', 10);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_TELEMETRY_ROUNDS', 8)));
const WARMUP = envNumber('BENCH_TELEMETRY_WARMUP', 60);
const GOAL = 0.9;
/** An A/A test: the system playing "on" is set off too. */
const CONTROL = process.env.BENCH_TELEMETRY_CONTROL === '1';

/** What is compared with off: telemetry as shipped, or the same system sampling every trace. */
type Setup = 'on' | 'every';
const SETUPS: Setup[] = ['on', 'every'];
/** The part a system plays in a window. */
type Role = 'on' | 'off';
/** The two systems, started alike. */
type SystemName = 'a' | 'b';
const SYSTEMS: SystemName[] = ['a', 'b'];

/** Each role's live telemetry settings, for every service (through the config center). */
type Telemetry = { tracing: object; metrics: object };
const TELEMETRY: Record<Setup | 'off', Telemetry> = {
  on: { tracing: {}, metrics: {} },
  every: { tracing: { sampleRatio: 1, samplesPerSecond: 0 }, metrics: {} },
  off: { tracing: { enabled: false }, metrics: { requests: false } },
};

interface Target {
  gatewayUrl: string;
  readUrl: string;
  clients: { accessToken: string; productIds: string[] }[];
  /** The customers behind `clients`, in the same order (to log in again when tokens run out). */
  customers: Credentials[];
  admin: Credentials;
  adminToken: string;
  /** The telemetry its services run with now. */
  telemetry: Setup | 'off' | undefined;
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
  /** The system that was on (or every): the other was off. */
  onSystem: SystemName;
  reads: Record<Role, Side<AutocannonFigures>>;
  checkout: Record<Role, Side<CheckoutFigures>>;
  readUsage: Usage;
  checkoutUsage: Usage;
}

async function prepare(gatewayUrl: string, users: { merchant: Credentials; admin: Credentials }) {
  const merchant = await login(gatewayUrl, users.merchant);
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
    admin: users.admin,
    adminToken: (await login(gatewayUrl, users.admin)).accessToken,
    telemetry: undefined,
  } satisfies Target;
}

/** Logs the admin and every customer of `target` in again. */
async function renewLogins(target: Target): Promise<void> {
  for (const [i, customer] of target.customers.entries()) {
    target.clients[i]!.accessToken = (await login(target.gatewayUrl, customer)).accessToken;
  }
  target.adminToken = (await login(target.gatewayUrl, target.admin)).accessToken;
}

const NO_LIMITS = { perAddress: 'off', perUser: 'off' };

/**
 * Sets `tracing` and `metrics` of every service of one system through the config center (as an
 * operator would) and waits until every up instance reports having applied them.
 */
async function setTelemetry(target: Target, setting: Setup | 'off'): Promise<void> {
  if (target.telemetry === setting) return;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${target.gatewayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.adminToken}`,
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
    // A first version replaces the environment's settings with the schema's defaults: keep the log
    // level and the gateway's per-address and per-user limits as the benchmark started them.
    const values: Record<string, unknown> = {
      ...current.values,
      ...TELEMETRY[setting],
      logLevel: BENCH_LOG_LEVEL,
    };
    if (service === 'gateway') values.rateLimits = { ...(values.rateLimits as object), ...NO_LIMITS };
    const changed = (await call('PUT', `/api/ops/config/${service}`, {
      values,
      reason: `telemetry benchmark: ${setting}`,
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
    if (behind.length === 0) break;
    if (Date.now() > until)
      throw new Error(`instances did not apply the telemetry change: ${behind.map((i) => i.id).join(', ')}`);
    await sleep(200);
  }
  target.telemetry = setting;
}

/**
 * Who plays what in a round: the system that is on and the core it has go through all four
 * combinations every four rounds.
 */
function placement(round: number): { on: SystemName; cores: Record<Role, string> } {
  const on: SystemName = round % 2 === 1 ? 'a' : 'b';
  const onCore = Math.floor((round - 1) / 2) % 2 === 0 ? '0' : '1';
  return { on, cores: { on: onCore, off: onCore === '0' ? '1' : '0' } };
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(
    `${NAME}: starting two systems as shipped…${CONTROL ? ' (control run: both off in every window)' : ''}`,
  );
  const targets = {} as Record<SystemName, Target>;
  const systems = {} as Record<SystemName, System>;
  for (const name of SYSTEMS) {
    const bench = await startBenchSystem();
    systems[name] = bench.system;
    const users = bench.system.bootstrapUsers?.users;
    if (!users) throw new Error('the system has no bootstrap users');
    targets[name] = await prepare(bench.system.gatewayUrl, users);
  }
  let loggedInAt = Date.now();
  /** Each system's core now; re-pinned only when a round changes it. */
  const pinned: Record<SystemName, string> = { a: '', b: '' };
  const pinTo = (name: SystemName, core: string) => {
    if (pinned[name] === core) return;
    pinSystem(systems[name], core);
    pinned[name] = core;
  };

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
    roles: Record<Role, SystemName>,
    cores: Record<Role, string>,
    work: (t: Target, cpus: string) => Promise<F>,
  ): Promise<{ result: Record<Role, Side<F>>; usage: Usage }> => {
    const before = { on: systemCpu(systems[roles.on]), off: systemCpu(systems[roles.off]) };
    const { result, usage } = await withUsage(() =>
      Promise.all([work(targets[roles.on], cores.on), work(targets[roles.off], cores.off)]),
    );
    const side = (role: Role, figures: F): Side<F> => ({
      figures,
      cpuMs: cpuUsedBetween(before[role], systemCpu(systems[roles[role]])),
      core: cores[role],
    });
    return { result: { on: side('on', result[0]), off: side('off', result[1]) }, usage };
  };

  for (const name of SYSTEMS) await setTelemetry(targets[name], 'on');
  if (WARMUP > 0) {
    console.log(`${NAME}: warming up both systems together (${WARMUP} s of reads, then of checkouts)…`);
    const roles = { on: 'a', off: 'b' } as const;
    const cores = { on: '0', off: '1' };
    pinTo('a', '0');
    pinTo('b', '1');
    await together(roles, cores, (t, cpus) => reads(t, WARMUP, cpus));
    await together(roles, cores, (t, cpus) => checkouts(t, WARMUP, cpus));
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
    measure: async (setup, round) => {
      if (Date.now() - loggedInAt > RENEW_LOGINS_MS) {
        for (const name of SYSTEMS) await renewLogins(targets[name]);
        loggedInAt = Date.now();
      }
      const { on, cores } = placement(round);
      const roles: Record<Role, SystemName> = { on, off: on === 'a' ? 'b' : 'a' };
      await setTelemetry(targets[roles.on], CONTROL ? 'off' : setup);
      await setTelemetry(targets[roles.off], 'off');
      pinTo(roles.on, cores.on);
      pinTo(roles.off, cores.off);
      await settle({ share: quiet });
      const r = await together(roles, cores, (t, cpus) => reads(t, SECONDS, cpus));
      await settle({ share: quiet });
      const c = await together(roles, cores, (t, cpus) => checkouts(t, CHECKOUT_SECONDS, cpus));
      return {
        onSystem: on,
        reads: r.result,
        readUsage: r.usage,
        checkout: c.result,
        checkoutUsage: c.usage,
      };
    },
    report: ({ setup, round, m }) => {
      const line = (role: Role) =>
        `${role === 'on' ? setup : 'off'} ${fmt(m.reads[role].figures.rps, 0)} reads/s (${fmt(perRead(m.reads[role]), 0)} µs, ${share(m.reads[role], m.readUsage)}), ${fmt(m.checkout[role].figures.ordersPerSecond, 1)} orders/s (${fmt(perOrder(m.checkout[role]), 1)} ms, ${share(m.checkout[role], m.checkoutUsage)})`;
      const offSystem = m.onSystem === 'a' ? 'b' : 'a';
      console.log(`${NAME}: round ${round}  ${m.onSystem}: ${line('on')}  |  ${offSystem}: ${line('off')}`);
    },
  });

  /**
   * Per window, a setup's ratios to off. Neither the two systems nor the two cores are alike here,
   * so a ratio is judged as the geometric mean of its medians over the four combinations of which
   * system was on and which core it had: a constant difference between systems or cores cancels.
   */
  const ratiosOf = (setup: Setup) => {
    const windows = results.filter((r) => r.setup === setup).map((r) => r.m);
    const cells = [...new Set(windows.map((m) => `${m.onSystem}/${m.reads.on.core}`))];
    const judged = (values: number[]) => {
      const medians = cells.map((cell) =>
        median(values.filter((_, i) => `${windows[i]!.onSystem}/${windows[i]!.reads.on.core}` === cell)),
      );
      return Math.exp(medians.reduce((sum, m) => sum + Math.log(m), 0) / medians.length);
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
      combinations: windows.map((m) => `${m.onSystem} on CPU ${m.reads.on.core}`),
      reads: judged(perWindow.reads),
      readCost: judged(perWindow.readCost),
      checkout: judged(perWindow.checkout),
      checkoutCost: judged(perWindow.checkoutCost),
    };
  };
  const on = ratiosOf('on');
  const every = ratiosOf('every');
  const sideMedian = (setup: Setup, role: Role, f: (m: Window, role: Role) => number) =>
    medianOf(results, setup, (m) => f(m, role));
  const rows = SETUPS.flatMap((setup) =>
    (['on', 'off'] as const).map((role) => [
      `${role === 'on' ? setup : 'off'} (beside ${role === 'on' ? 'off' : setup})`,
      fmt(
        sideMedian(setup, role, (m, r) => m.reads[r].figures.rps),
        0,
      ),
      fmt(
        sideMedian(setup, role, (m, r) => m.reads[r].figures.p99Ms),
        1,
      ),
      fmt(
        sideMedian(setup, role, (m, r) => perRead(m.reads[r])),
        0,
      ),
      fmt(
        sideMedian(setup, role, (m, r) => m.checkout[r].figures.ordersPerSecond),
        1,
      ),
      fmt(
        sideMedian(setup, role, (m, r) => m.checkout[r].figures.toConfirmed.p99Ms),
        1,
      ),
      fmt(
        sideMedian(setup, role, (m, r) => perOrder(m.checkout[r])),
        1,
      ),
    ]),
  );
  console.log(
    `\n${NAME}: medians of ${ROUNDS} windows (reads ${SECONDS} s, checkout ${CHECKOUT_SECONDS} s) per comparison; both systems loaded at once, each with its load generator on its own core; which system is on and which core it has go through all four combinations; ratios: geometric mean of the medians of each combination`,
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
      control: CONTROL,
    },
    figures: {
      on,
      every,
      windows: results.map((r) => ({
        setup: r.setup,
        round: r.round,
        onSystem: r.m.onSystem,
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
      ...(CONTROL ? ['CONTROL RUN (A/A): the system playing "on" (and "every") was off too'] : []),
      'on: as shipped: a span (or, for an unsampled trace, a light record made a span only if it fails) for every request, call, transaction and event; new traces sampled at 1 % plus up to 10 a second per instance; sampled and failed spans exported to the embedded collector; request and call metrics observed',
      "every: the on system with every service's tracing set to sampleRatio 1, samplesPerSecond 0: every span of every trace exported (OTLP JSON over HTTP to the gateway)",
      "off: every service's tracing.enabled and metrics.requests set to false through the config center (no span recorded, not even an error's; requests and calls not counted)",
      "each window loads both systems at once, each with its load generator on its own core; which system is on and which core it has go through all four combinations every four rounds, so a difference between the systems or the cores cancels out; per CPU-second counts each system's own processes",
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
