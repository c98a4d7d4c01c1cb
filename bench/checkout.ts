/**
 * Checkout: confirmed orders per second end to end (the saga across orders, inventory and
 * payments, through the gateway) and the time from `POST /api/orders` to CONFIRMED, against the
 * cluster's own yardstick measured side by side: single-row INSERT transactions per second on the
 * same embedded PostgreSQL cluster, with the same number of concurrent clients, each on its own
 * connection with `synchronous_commit` on.
 *
 * Setups, alternated round by round (checkout, inserts, reads; then inserts, reads, checkout; ...):
 *   checkout — C closed loops, each its own customer with its own products (stock 1,000,000):
 *              empty the cart, put one line, check out (`tok_visa`), poll until CONFIRMED;
 *   inserts  — C connections to a scratch database (created here, dropped at the end), each a
 *              closed loop of `INSERT INTO scratch (payload) VALUES ($1)` in autocommit;
 *   reads    — C closed loops of cached product reads through the gateway (`GET /api/products/:id`
 *              of the clients' products): the cheapest request the system serves, as a floor.
 * The floor: every instance counts the requests it serves (`http_server_requests_total`, health and
 * metrics left out), so a window shows how many requests a confirmed order took and how much CPU a
 * cached read's requests cost each. An order made of only that many requests, each as cheap as a
 * cached read's, with PostgreSQL and the bus doing nothing, would cost (requests per order) × (CPU
 * per request): the highest orders/s ÷ inserts/s any checkout over these requests could reach here.
 * Before each window the system is let go quiet (events of the last orders still being delivered
 * belong to the checkout, not to the next window). The judged ratio is orders/s ÷ inserts/s, per
 * round, median over rounds. Before the rounds, one client checks out alone for a few seconds: a
 * checkout's latency when it waits for no other. Every system process runs on CPU 0, the load
 * generators on CPU 1. The orders service's saga step and call durations say where a checkout's
 * time goes, and the CPU per order by process (PostgreSQL by database) what it costs.
 *
 * Settings (environment): BENCH_CHECKOUT_CLIENTS (8), BENCH_CHECKOUT_SECONDS per window (15),
 * BENCH_CHECKOUT_ROUNDS (3), BENCH_CHECKOUT_PRODUCTS per client (4), BENCH_WARMUP seconds of
 * checkouts before the first round (20: at this load V8 still spends about 6 % of the core compiling
 * the services 20 s in, 4 % after a minute; the inserts warm up for at most 5 s), BENCH_LOG_LEVEL (warn), BENCH_CHECKOUT_STATEMENTS (1: the cluster
 * loads pg_stat_statements and the SQL statements of the measured checkout windows are counted, by
 * database, per confirmed order; 2 also lists each database's statements; 0 runs the cluster
 * without it).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { OWN_TRAFFIC } from '../packages/kit/src/alerts/rules.ts';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
import type { CheckoutFigures, Latency } from './lib/checkout-worker.ts';
import {
  type BenchResult,
  envNumber,
  fmt,
  median,
  onCleanup,
  type Ratio,
  runAsProgram,
  runWorker,
  table,
  tempDir,
} from './lib/common.ts';
import { login } from './lib/identity.ts';
import type { InsertFigures } from './lib/insert-worker.ts';
import { readSeries, type Series, seriesDelta } from './lib/metrics.ts';
import {
  alternate,
  medianOf,
  type RoundResult,
  roundRatios,
  settle,
  type Usage,
  withUsage,
} from './lib/rounds.ts';
import { BENCH_ADDRESS, loggedInCustomers, stockedProducts } from './lib/shop.ts';
import { STATEMENT_COUNTING_SETTINGS, statementCounter } from './lib/statements.ts';
import { BENCH_LOG_LEVEL, describePins, LOAD_CPU, startBenchSystem } from './lib/system.ts';

const NAME = 'checkout';
const CLIENTS = Math.max(1, Math.round(envNumber('BENCH_CHECKOUT_CLIENTS', 8)));
const SECONDS = envNumber('BENCH_CHECKOUT_SECONDS', 15);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_CHECKOUT_ROUNDS', 3)));
/** Seconds of checkouts by one client alone: the latency of a checkout that waits for no other. */
const ALONE_SECONDS = 5;
const PRODUCTS_PER_CLIENT = Math.max(1, Math.round(envNumber('BENCH_CHECKOUT_PRODUCTS', 4)));
const WARMUP = envNumber('BENCH_WARMUP', 20);
/** The inserts' warm-up: one statement's code paths, warm in seconds. */
const INSERT_WARMUP = Math.min(WARMUP, 5);
const COUNT_STATEMENTS = envNumber('BENCH_CHECKOUT_STATEMENTS', 1) > 0;
const LIST_STATEMENTS = envNumber('BENCH_CHECKOUT_STATEMENTS', 1) >= 2;
const GOAL = 0.1;
const SCRATCH_DB = `bench_scratch_${process.pid}`;
const SCRATCH_TABLE = 'scratch';
/** The insert worker reads the scratch database's URL here, not from its command line. */
const URL_VARIABLE = 'BENCH_INSERT_DATABASE_URL';

type Setup = 'checkout' | 'inserts' | 'reads';
const SETUPS: Setup[] = ['checkout', 'inserts', 'reads'];
const SETUP_LABELS: Record<Setup, string> = {
  checkout: 'checkout (orders CONFIRMED)',
  inserts: 'single-row INSERT',
  reads: 'cached product read (gateway)',
};
/** Routes an instance serves for its own upkeep, left out as the kit's alert rules leave them out. */
const OWN_ROUTE = new RegExp(`^(?:${OWN_TRAFFIC})$`);
const isOwnTraffic = (labels: string) => OWN_ROUTE.test(/route="([^"]*)"/.exec(labels)?.[1] ?? '');

interface Window {
  checkout?: CheckoutFigures;
  inserts?: InsertFigures;
  reads?: AutocannonFigures;
  usage: Usage;
  /** Requests served by every instance over the window (checkout: and its events' delivery). */
  requests?: number;
  /** SQL statements of a checkout window and of the events it left to deliver, by database. */
  statements?: Record<string, number>;
  /** The same by statement (BENCH_CHECKOUT_STATEMENTS=2). */
  byStatement?: { db: string; query: string; calls: number }[];
  /** Time waited for the system to go quiet before the window, ms. */
  settledMs: number;
}

/** Transactions (confirmed orders, or inserts) per second of a window. */
const rate = (w: Window) =>
  w.checkout?.ordersPerSecond ?? w.inserts?.insertsPerSecond ?? w.reads?.rps ?? Number.NaN;
const count = (w: Window) => w.checkout?.confirmed ?? w.inserts?.inserts ?? w.reads?.ok ?? 0;
const loadgenShare = (w: Window) =>
  w.checkout?.cpuShare ?? w.inserts?.cpuShare ?? w.reads?.cpuShare ?? Number.NaN;
const latency = (w: Window) => w.checkout?.toConfirmed ?? w.inserts ?? w.reads!;
/** Requests served per transaction (order, or read). */
const requestsPerTx = (w: Window) => (w.requests ?? Number.NaN) / count(w);
/** CPU time of our processes on CPU 0 per transaction, ms. */
const cpuPerTx = (w: Window) => w.usage.oursMs / count(w);
/** PostgreSQL's CPU is split by database: which service's tables (or the bus) cost most. */
const BY_DATABASE = { postgresByDatabase: true };

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting the system (log level ${BENCH_LOG_LEVEL})…`);
  const { system, pinAll } = await startBenchSystem(
    COUNT_STATEMENTS ? { postgresSettings: STATEMENT_COUNTING_SETTINGS } : {},
  );
  const gatewayUrl = system.gatewayUrl;
  const merchantAccount = system.bootstrapUsers?.users.merchant;
  if (!merchantAccount) throw new Error('the system has no bootstrap merchant (is identity running?)');
  const orders = system.supervisor.info('orders-1');
  if (!orders.url) throw new Error('orders-1 has no url');

  const setupStarted = performance.now();
  const merchant = await login(gatewayUrl, merchantAccount);
  const customers = await loggedInCustomers(gatewayUrl, CLIENTS);
  const productIds = await stockedProducts(gatewayUrl, merchant.accessToken, {
    count: CLIENTS * PRODUCTS_PER_CLIENT,
    onHand: 1_000_000,
  });
  const clients = customers.map((c, i) => ({
    accessToken: c.accessToken,
    productIds: productIds.slice(i * PRODUCTS_PER_CLIENT, (i + 1) * PRODUCTS_PER_CLIENT),
  }));
  console.log(
    `${NAME}: ${CLIENTS} customers and ${productIds.length} products (${PRODUCTS_PER_CLIENT} each) set up in ${fmt((performance.now() - setupStarted) / 1000, 1)} s`,
  );

  onCleanup('drop the scratch database', () => system.cluster.dropDatabase(SCRATCH_DB));
  await system.cluster.ensureDatabase(SCRATCH_DB);
  const scratchUrl = system.cluster.url(SCRATCH_DB);
  const admin = new pg.Client({ connectionString: scratchUrl });
  await admin.connect();
  try {
    await admin.query(
      `CREATE TABLE ${SCRATCH_TABLE} (id bigserial PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );
  } finally {
    await admin.end();
  }
  process.env[URL_VARIABLE] = scratchUrl;
  // Registered after the drop, so closed before it (clean-ups run last first).
  const statements = COUNT_STATEMENTS ? await statementCounter(scratchUrl, [SCRATCH_DB]) : undefined;
  if (statements) onCleanup('close the statement counter', () => statements.close());

  // The reads take the clients' products in turn: every read after each one's first is a cache hit.
  const paths = productIds.map((id) => `/api/products/${id}`);
  const dir = await tempDir('bazaar-bench-paths-');
  onCleanup('remove the path list', () => dir.remove());
  const pathsFile = join(dir.path, 'products.json');
  writeFileSync(pathsFile, JSON.stringify(paths));

  const pins = pinAll();
  console.log(`${NAME}: ${describePins(pins)}; load generators on CPU ${LOAD_CPU}`);
  console.log(
    `${NAME}: ${CLIENTS} concurrent clients in both setups; ${ROUNDS} round(s) of ${SECONDS} s windows after warm-ups of ${WARMUP} s (checkouts) and ${INSERT_WARMUP} s (inserts)`,
  );

  const timeoutMs = (SECONDS + WARMUP) * 1000 + 120_000;
  const checkouts = (seconds: number, loops = clients) =>
    runWorker<CheckoutFigures>(
      join(import.meta.dirname, 'lib', 'checkout-worker.ts'),
      { gatewayUrl, clients: loops, seconds, shippingAddress: BENCH_ADDRESS },
      { cpus: LOAD_CPU, timeoutMs },
    );
  const inserts = (seconds: number) =>
    runWorker<InsertFigures>(
      join(import.meta.dirname, 'lib', 'insert-worker.ts'),
      { urlVariable: URL_VARIABLE, table: SCRATCH_TABLE, connections: CLIENTS, seconds },
      { cpus: LOAD_CPU, timeoutMs },
    );
  const reads = (seconds: number, warmupSeconds = 0) =>
    runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      { url: `${gatewayUrl}${paths[0]}`, connections: CLIENTS, seconds, warmupSeconds, pathsFile },
      { cpus: LOAD_CPU, timeoutMs },
    );
  // Requests served so far by every instance, their own upkeep left out.
  const servedRequests = async () => {
    let n = 0;
    for (const instance of system.instances) {
      if (!instance.url) continue;
      const series = await readSeries(instance.url, 'http_server_requests_total');
      for (const [labels, value] of Object.entries(series)) if (!isOwnTraffic(labels)) n += value;
    }
    return n;
  };

  if (WARMUP > 0) {
    console.log(`${NAME}: warming up (checkouts ${WARMUP} s, then inserts ${INSERT_WARMUP} s)…`);
    const warm = await checkouts(WARMUP);
    console.log(
      `${NAME}: warm-up: ${warm.confirmed} orders confirmed (${fmt(warm.ordersPerSecond, 1)}/s), ${describe(warm.unexpected)}`,
    );
    await settle();
    await inserts(INSERT_WARMUP);
    await reads(INSERT_WARMUP);
  }

  const metricNames = [
    'bazaar_saga_step_duration_seconds_sum',
    'bazaar_saga_step_duration_seconds_count',
    'bazaar_client_call_duration_seconds_sum',
    'bazaar_client_call_duration_seconds_count',
    'bazaar_sagas_total',
  ];
  const readOrdersMetrics = async () => {
    const out: Record<string, Series> = {};
    for (const name of metricNames) out[name] = await readSeries(orders.url!, name);
    return out;
  };

  // One client alone: a checkout's latency and steps when it waits for no other.
  const aloneBefore = await readOrdersMetrics();
  const alone = await withUsage(() => checkouts(ALONE_SECONDS, clients.slice(0, 1)), BY_DATABASE);
  const aloneAfter = await readOrdersMetrics();
  console.log(
    `${NAME}: one client alone: ${fmt(alone.result.ordersPerSecond, 1)} orders/s  POST → CONFIRMED p50 ${fmt(alone.result.toConfirmed.p50Ms, 1)} ms p99 ${fmt(alone.result.toConfirmed.p99Ms, 1)} ms  system CPU ${fmt(alone.usage.oursMs / alone.result.confirmed, 1)} ms/order  ${describe({ ...alone.result.unexpected, ...alone.result.errors })}`,
  );

  const metricsBefore = await readOrdersMetrics();
  // Events published and delivered, over every instance: the bus's share of an order's work.
  const readEvents = async () => {
    const out: Record<'published' | 'consumed', Series> = { published: {}, consumed: {} };
    for (const instance of system.instances) {
      if (!instance.url) continue;
      for (const [key, name] of [
        ['published', 'bazaar_outbox_published_total'],
        ['consumed', 'bazaar_events_consumed_total'],
      ] as const) {
        const series: Series = await readSeries(instance.url, name).catch(() => ({}));
        for (const [labels, value] of Object.entries(series)) {
          const k = `${instance.service} ${labels}`;
          out[key][k] = (out[key][k] ?? 0) + value;
        }
      }
    }
    return out;
  };
  const eventsBefore = await readEvents();

  const results = await alternate<Setup, Window>({
    setups: SETUPS,
    rounds: ROUNDS,
    measure: async (setup) => {
      const settledMs = await settle();
      if (setup === 'checkout') {
        await statements?.reset();
        const requestsBefore = await servedRequests();
        const { result, usage } = await withUsage(() => checkouts(SECONDS), BY_DATABASE);
        // The window's last orders still have events on their way: their statements are the window's.
        if (statements) await settle();
        const requests = (await servedRequests()) - requestsBefore;
        if (!statements) return { checkout: result, usage, settledMs, requests };
        return {
          checkout: result,
          usage,
          settledMs,
          requests,
          statements: await statements.read(),
          ...(LIST_STATEMENTS ? { byStatement: await statements.readByStatement() } : {}),
        };
      }
      if (setup === 'reads') {
        const requestsBefore = await servedRequests();
        const { result, usage } = await withUsage(() => reads(SECONDS), BY_DATABASE);
        return { reads: result, usage, settledMs, requests: (await servedRequests()) - requestsBefore };
      }
      const { result, usage } = await withUsage(() => inserts(SECONDS), BY_DATABASE);
      // The insert connections' backends end with the worker, before the window's last reading:
      // their CPU, which the worker read just before, is ours, not others'.
      const kind = `postgres: ${SCRATCH_DB} db`;
      usage.cpuMs[kind] = (usage.cpuMs[kind] ?? 0) + result.backendCpuMs;
      usage.oursMs += result.backendCpuMs;
      usage.cpu0Others = Math.max(0, usage.cpu0Others - result.backendCpuMs / usage.elapsedMs);
      return { inserts: result, usage, settledMs };
    },
    report: ({ setup, round, m }) => {
      const line = [`${NAME}: round ${round} ${setup.padEnd(8)} ${fmt(rate(m), 1).padStart(7)}/s`];
      if (m.checkout) {
        const c = m.checkout;
        line.push(
          `to CONFIRMED p50 ${fmt(c.toConfirmed.p50Ms, 1)} ms p99 ${fmt(c.toConfirmed.p99Ms, 1)} ms  201/202 ${c.answered201}/${c.answered202}  ${describe({ ...c.unexpected, ...c.errors })}`,
        );
      }
      if (m.inserts) {
        const x = m.inserts;
        line.push(
          `p50 ${fmt(x.p50Ms, 2)} ms p99 ${fmt(x.p99Ms, 2)} ms  synchronous_commit ${describe(x.synchronousCommit)}  ${describe(x.errors)}`,
        );
      }
      if (m.reads) {
        const r = m.reads;
        line.push(
          `p50 ${fmt(r.p50Ms, 2)} ms p99 ${fmt(r.p99Ms, 2)} ms  ${fmt(requestsPerTx(m), 2)} requests served per read  non-2xx ${r.non2xx} errors ${r.errors}`,
        );
      }
      line.push(
        `cpu0 ${fmt(m.usage.cpu0 * 100, 0)}% (others ${fmt(m.usage.cpu0Others * 100, 0)}%) loadgen ${fmt(loadgenShare(m) * 100, 0)}%  settled ${fmt(m.settledMs / 1000, 1)} s`,
      );
      console.log(line.join('  '));
    },
  });
  const metricsAfter = await readOrdersMetrics();
  const eventsAfter = await readEvents();
  pinAll();

  const ratioPerRound = roundRatios(results, 'checkout', 'inserts', rate);
  const ratio = median(ratioPerRound);
  const of = (setup: Setup) => results.filter((r) => r.setup === setup).map((r) => r.m);
  const med = (setup: Setup, f: (w: Window) => number) => medianOf(results, setup, f);
  const checkoutWindows = of('checkout');
  const insertWindows = of('inserts');
  const latencyMed = (f: (c: CheckoutFigures) => Latency, key: keyof Latency) =>
    med('checkout', (w) => f(w.checkout!)[key]);

  console.log(
    `\n${NAME}: ${CLIENTS} concurrent clients, median of ${ROUNDS} × ${SECONDS} s windows; system on CPU 0, load generator on CPU 1`,
  );
  console.log(
    table(
      [
        'setup',
        'tx/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'CPU0 busy (others)',
        'loadgen CPU',
        'system CPU ms/tx',
      ],
      SETUPS.map((setup) => [
        SETUP_LABELS[setup],
        fmt(med(setup, rate), 1),
        fmt(
          med(setup, (w) => latency(w).p50Ms),
          2,
        ),
        fmt(
          med(setup, (w) => latency(w).p99Ms),
          2,
        ),
        fmt(Math.max(...of(setup).map((w) => latency(w).maxMs)), 1),
        `${fmt(med(setup, (w) => w.usage.cpu0) * 100, 0)}% (${fmt(med(setup, (w) => w.usage.cpu0Others) * 100, 0)}%)`,
        `${fmt(med(setup, loadgenShare) * 100, 0)}%`,
        fmt(med(setup, cpuPerTx), 3),
      ]),
    ),
  );
  const insertSettings = insertWindows[0]?.inserts;
  console.log(
    `inserts ran with synchronous_commit ${describe(insertSettings?.synchronousCommit ?? {})}, fsync ${describe(insertSettings?.fsync ?? {})} (connections by value)`,
  );
  console.log(
    `per-round orders/s ÷ inserts/s: ${ratioPerRound.map((r) => fmt(r, 4)).join(' ')}; median ${fmt(ratio, 4)} (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})`,
  );

  console.log(`\n${NAME}: one turn of a client (median over rounds of each window's figure), ms`);
  console.log(
    table(
      ['part', 'p50', 'p90', 'p99', 'mean'],
      (
        [
          ['empty cart + put line', (c) => c.cart],
          ['POST /api/orders (answer)', (c) => c.post],
          ['POST → CONFIRMED', (c) => c.toConfirmed],
          ['whole turn', (c) => c.turn],
        ] as [string, (c: CheckoutFigures) => Latency][]
      ).map(([part, f]) => [
        part,
        fmt(latencyMed(f, 'p50Ms'), 1),
        fmt(latencyMed(f, 'p90Ms'), 1),
        fmt(latencyMed(f, 'p99Ms'), 1),
        fmt(latencyMed(f, 'meanMs'), 1),
      ]),
    ),
  );
  const answered = checkoutWindows.reduce(
    (s, w) => ({
      a201: s.a201 + w.checkout!.answered201,
      a202: s.a202 + w.checkout!.answered202,
      polls: s.polls + w.checkout!.polls,
    }),
    { a201: 0, a202: 0, polls: 0 },
  );
  console.log(
    `checkouts answered 201 (ended within the wait) ${answered.a201}, 202 (polled) ${answered.a202}, polls ${answered.polls}`,
  );

  // Where a checkout's time goes: the orders service's own account of its saga steps and calls.
  const delta = (name: string) => seriesDelta(metricsBefore[name]!, metricsAfter[name]!);
  const steps = meanBy(metricsBefore, metricsAfter, 'bazaar_saga_step_duration_seconds', 'step');
  const calls = meanBy(metricsBefore, metricsAfter, 'bazaar_client_call_duration_seconds', 'target');
  const aloneMean = new Map(
    [
      ...meanBy(aloneBefore, aloneAfter, 'bazaar_saga_step_duration_seconds', 'step'),
      ...meanBy(aloneBefore, aloneAfter, 'bazaar_client_call_duration_seconds', 'target'),
    ].map((r) => [r.key, r.meanMs]),
  );
  const confirmedTotal = checkoutWindows.reduce((s, w) => s + w.checkout!.confirmed, 0);
  console.log(
    `\n${NAME}: orders' saga steps and calls, over the measured windows (${CLIENTS} clients) and one client alone`,
  );
  console.log(
    table(
      ['saga step / call to (outcome)', 'count', 'mean ms', 'ms per order', 'alone: mean ms'],
      [
        ...steps.map((r) => ({ ...r, label: `step ${r.key}` })),
        ...calls.map((r) => ({ ...r, label: `call ${r.key}` })),
      ].map((r) => [
        r.label,
        String(r.n),
        fmt(r.meanMs, 2),
        fmt((r.totalS * 1000) / confirmedTotal, 2),
        fmt(aloneMean.get(r.key), 2),
      ]),
    ),
  );
  const sagas = delta('bazaar_sagas_total');
  const perOrderBy = (series: Series, label: string) => {
    const by: Record<string, number> = {};
    for (const [key, n] of Object.entries(series)) {
      const service = key.split(' ')[0]!;
      const value = new RegExp(`${label}="([^"]*)"`).exec(key)?.[1] ?? '?';
      const k = label === 'consumer' ? `${service}/${value}` : value;
      by[k] = (by[k] ?? 0) + n / confirmedTotal;
    }
    return by;
  };
  const published = perOrderBy(seriesDelta(eventsBefore.published, eventsAfter.published), 'type');
  const handled = perOrderBy(
    Object.fromEntries(
      Object.entries(seriesDelta(eventsBefore.consumed, eventsAfter.consumed)).filter(([k]) =>
        k.includes('outcome="processed"'),
      ),
    ),
    'consumer',
  );
  const sum = (by: Record<string, number>) => Object.values(by).reduce((a, b) => a + b, 0);
  const list = (by: Record<string, number>) =>
    Object.entries(by)
      .filter(([, n]) => n >= 0.01)
      .map(([k, n]) => `${k} ${fmt(n, 2)}`)
      .join(', ');
  console.log(
    `events per confirmed order: published ${fmt(sum(published), 2)} (${list(published)}); handled ${fmt(sum(handled), 2)} (${list(handled)})`,
  );

  const statementsPerOrder: Record<string, number> = {};
  for (const w of checkoutWindows) {
    for (const [db, n] of Object.entries(w.statements ?? {})) {
      statementsPerOrder[db] = (statementsPerOrder[db] ?? 0) + n / confirmedTotal;
    }
  }
  const statementsTotal = sum(statementsPerOrder);
  if (statements) {
    console.log(
      `SQL statements per confirmed order (pg_stat_statements, BEGIN and COMMIT included): ${fmt(statementsTotal, 1)} (${Object.entries(
        statementsPerOrder,
      )
        .sort((a, b) => b[1] - a[1])
        .map(([db, n]) => `${db} ${fmt(n, 1)}`)
        .join(', ')})`,
    );
  }

  if (LIST_STATEMENTS) {
    const calls = new Map<string, { db: string; query: string; calls: number }>();
    for (const row of checkoutWindows.flatMap((w) => w.byStatement ?? [])) {
      const key = `${row.db}\u0000${row.query}`;
      const kept = calls.get(key);
      if (kept) kept.calls += row.calls;
      else calls.set(key, { ...row });
    }
    const rows = [...calls.values()]
      .map((r) => ({ ...r, perOrder: r.calls / confirmedTotal }))
      .filter((r) => r.perOrder >= 0.05)
      .sort((a, b) => a.db.localeCompare(b.db) || b.perOrder - a.perOrder);
    console.log(`\n${NAME}: SQL statements per confirmed order, by database and statement`);
    console.log(
      table(
        ['database', 'per order', 'statement'],
        rows.map((r) => [r.db, fmt(r.perOrder, 2), r.query.replace(/\s+/g, ' ').slice(0, 140)]),
      ),
    );
  }

  // What a confirmed order costs, by process, next to what an insert costs.
  const kinds = [...new Set(checkoutWindows.flatMap((w) => Object.keys(w.usage.cpuMs)))];
  const perOrder = Object.fromEntries(
    kinds.map((kind) => [
      kind,
      median(checkoutWindows.map((w) => (w.usage.cpuMs[kind] ?? 0) / w.checkout!.confirmed)),
    ]),
  );
  console.log(`\n${NAME}: CPU per confirmed order by process (median over rounds), ms`);
  console.log(
    table(
      ['process', 'CPU ms/order'],
      Object.entries(perOrder)
        .sort((a, b) => b[1] - a[1])
        .filter(([, ms]) => ms >= 0.05)
        .map(([kind, ms]) => [kind, fmt(ms, 2)]),
    ),
  );
  const pgPerInsert = median(insertWindows.map((w) => w.inserts!.backendCpuMs / w.inserts!.inserts));
  console.log(`PostgreSQL backend CPU per insert: ${fmt(pgPerInsert, 3)} ms`);

  // The floor of the requests: an order made of only its requests, each as cheap as a cached read's.
  const requestsPerOrder = med('checkout', requestsPerTx);
  const requestsPerRead = med('reads', requestsPerTx);
  const cpuPerRequest = med('reads', (w) => w.usage.oursMs / (w.requests ?? Number.NaN));
  const insertCpu = med('inserts', cpuPerTx);
  const floorCpuPerOrder = requestsPerOrder * cpuPerRequest;
  // Per round, side by side: the reads' requests/s spent on orders of that many requests.
  const ceilingPerRound = roundRatios(results, 'reads', 'inserts', rate).map(
    (r) => (r * requestsPerRead) / requestsPerOrder,
  );
  const ceiling = median(ceilingPerRound);
  console.log(
    `\n${NAME}: the floor of the requests. A confirmed order took ${fmt(requestsPerOrder, 1)} requests served by the gateway and the services (the client's 3 or more, and the services' calls; health and metrics left out); a cached read took ${fmt(requestsPerRead, 2)}, at ${fmt(cpuPerRequest, 3)} ms of CPU each.`,
  );
  console.log(
    `An order of only those requests, each as cheap as a cached read's, with PostgreSQL and the bus doing nothing: ${fmt(floorCpuPerOrder, 2)} ms of CPU (an insert: ${fmt(insertCpu, 3)} ms); orders/s ÷ inserts/s at most ${ceilingPerRound.map((r) => fmt(r, 4)).join(' ')} per round, median ${fmt(ceiling, 4)}.`,
  );

  const checkoutProblems: Record<string, number> = {};
  for (const w of checkoutWindows) {
    for (const [k, v] of Object.entries({ ...w.checkout!.unexpected, ...w.checkout!.errors })) {
      checkoutProblems[k] = (checkoutProblems[k] ?? 0) + v;
    }
  }
  const insertErrors = insertWindows.reduce(
    (s, w) => s + Object.values(w.inserts!.errors).reduce((a, b) => a + b, 0),
    0,
  );
  const ratios: Ratio[] = [
    {
      name: 'orders/s ÷ single-row INSERTs/s (same clients, same cluster)',
      value: ratio,
      goal: `>= ${GOAL}`,
      met: ratio >= GOAL,
    },
    { name: 'confirmed orders/s', value: med('checkout', rate) },
    { name: 'POST → CONFIRMED p50 ms', value: latencyMed((c) => c.toConfirmed, 'p50Ms') },
    { name: 'POST → CONFIRMED p99 ms', value: latencyMed((c) => c.toConfirmed, 'p99Ms') },
    { name: 'POST → CONFIRMED p50 ms, one client alone', value: alone.result.toConfirmed.p50Ms },
    { name: 'single-row INSERTs/s', value: med('inserts', rate) },
    ...(statements ? [{ name: 'SQL statements per confirmed order', value: statementsTotal }] : []),
    { name: 'requests served per confirmed order', value: requestsPerOrder },
    {
      name: 'ceiling: orders/s ÷ INSERTs/s of an order of only its requests, each a cached read',
      value: ceiling,
    },
    {
      name: 'system CPU ms per order ÷ per insert',
      value: med('checkout', cpuPerTx) / med('inserts', cpuPerTx),
    },
  ];
  const notes = [
    `${CLIENTS} concurrent clients in both setups: ${CLIENTS} customers each with ${PRODUCTS_PER_CLIENT} products of their own (no shared stock rows), and ${CLIENTS} connections, one per client.`,
    'A checkout turn also empties the cart and puts one line (2 requests) before the POST: orders/s counts whole turns; the latency is from the POST to CONFIRMED.',
    `Every system process on CPU 0 (${describePins(pins)}); the load generators on CPU ${LOAD_CPU}.`,
    `Before each window the system was let go quiet (median ${fmt(median(results.map((r) => r.m.settledMs)) / 1000, 1)} s): events still delivered after the last order are not charged to the inserts.`,
    `Log level ${BENCH_LOG_LEVEL}: no per-request access log. Rate limits are off.`,
    statements
      ? 'The cluster ran with pg_stat_statements loaded, to count statements (BENCH_CHECKOUT_STATEMENTS=0 runs it without).'
      : 'The cluster ran without pg_stat_statements: no statement count.',
  ];
  if (!(ratio >= GOAL)) {
    const top = steps[0];
    const orderCpu = med('checkout', cpuPerTx);
    const topKinds = Object.entries(perOrder)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([kind, ms]) => `${kind} ${fmt(ms, 1)}`)
      .join(', ');
    notes.push(
      `Goal not met: CPU 0 is the bound. A confirmed order costs ${fmt(orderCpu, 1)} ms of CPU on it (most: ${topKinds} ms), an insert ${fmt(insertCpu, 3)} ms; 1/10 would need at most ${fmt(insertCpu * 10, 2)} ms per order.`,
      `With ${CLIENTS} clients on one core a checkout mostly waits for the others' work: POST → CONFIRMED p50 ${fmt(
        latencyMed((c) => c.toConfirmed, 'p50Ms'),
        0,
      )} ms loaded against ${fmt(alone.result.toConfirmed.p50Ms, 0)} ms alone; saga steps take ${fmt((steps.reduce((s, r) => s + r.totalS, 0) * 1000) / confirmedTotal, 0)} ms per order loaded${top ? ` (longest: ${top.key}, ${fmt(top.meanMs, 1)} ms each; ${fmt(aloneMean.get(top.key), 1)} ms alone)` : ''}.`,
      `The requests alone bound it: an order's ${fmt(requestsPerOrder, 1)} requests, each as cheap as a cached product read (${fmt(cpuPerRequest, 3)} ms), cost ${fmt(floorCpuPerOrder, 2)} ms with PostgreSQL and the bus free, so no checkout of these requests reaches more than ${fmt(ceiling, 3)} here${ceiling < GOAL ? `, under the goal of ${GOAL}` : ''}.`,
    );
  }
  if (Object.keys(checkoutProblems).length > 0) {
    notes.push(`Checkout turns that went wrong: ${describe(checkoutProblems)}.`);
  }
  if (insertErrors > 0) notes.push(`${insertErrors} inserts failed.`);
  if (!insertSettings || Object.keys(insertSettings.synchronousCommit).some((v) => v !== 'on')) {
    notes.push('Some insert connection did not run with synchronous_commit on: the yardstick is off.');
  }
  if (results.some((r) => loadgenShare(r.m) > 0.9)) {
    notes.push('A load generator used over 90 % of its core in some window: it may be the bound.');
  }
  return {
    name: NAME,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    settings: {
      clients: CLIENTS,
      productsPerClient: PRODUCTS_PER_CLIENT,
      windowSeconds: SECONDS,
      rounds: ROUNDS,
      warmupSeconds: WARMUP,
      logLevel: BENCH_LOG_LEVEL,
      synchronousCommit: insertSettings?.synchronousCommit,
      fsync: insertSettings?.fsync,
    },
    figures: {
      alone: { ...alone.result, usage: alone.usage, sagaStepMeanMs: Object.fromEntries(aloneMean) },
      windows: results satisfies RoundResult<Setup, Window>[],
      sagaSteps: steps,
      ordersCalls: calls,
      sagasEnded: sagas,
      eventsPublishedPerOrder: published,
      eventsHandledPerOrder: handled,
      cpuPerOrderMs: perOrder,
      postgresCpuPerInsertMs: pgPerInsert,
      requestsPerOrder,
      requestsPerRead,
      cpuPerRequestMs: cpuPerRequest,
      ceilingPerRound,
      pins,
    },
    ratios,
    notes,
  };
}

/**
 * Per series of histogram `base` (`_sum`, `_count`) between two readings: `<label value>
 * (<outcome>)`, how many, mean and total duration; largest total first.
 */
function meanBy(before: Record<string, Series>, after: Record<string, Series>, base: string, label: string) {
  const sums = seriesDelta(before[`${base}_sum`]!, after[`${base}_sum`]!);
  const counts = seriesDelta(before[`${base}_count`]!, after[`${base}_count`]!);
  const rows: { key: string; n: number; meanMs: number; totalS: number }[] = [];
  for (const [series, n] of Object.entries(counts)) {
    if (n <= 0) continue;
    const value = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(series)?.[1] ?? '?';
    const total = sums[series] ?? 0;
    rows.push({ key: `${value(label)} (${value('outcome')})`, n, meanMs: (total / n) * 1000, totalS: total });
  }
  return rows.sort((a, b) => b.totalS - a.totalS);
}

/** `key: count, …` ('–' for none). */
function describe(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || '–'
  );
}

if (import.meta.main) {
  await runAsProgram(NAME, main, {
    timeLimitMs:
      240_000 + (2 * WARMUP + ALONE_SECONDS + SETUPS.length * ROUNDS * (SECONDS + 15)) * 1000 * 1.5,
  });
}
