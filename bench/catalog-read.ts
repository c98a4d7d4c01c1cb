/**
 * Catalog read: product reads by id (`GET /api/products/:id`) through the gateway, answered from
 * the catalog's product cache, against the same reads answered from the database, side by side.
 *
 * Setups, both through the gateway to the system's catalog instances (×2 by default), over the
 * same autocannon worker and the same number of connections:
 *   cached   — a few products (8) read in turn: after the first read of each, every read is a hit;
 *   uncached — many products read in turn, more per instance between two reads of the same one
 *              than an instance's cache holds (10,000, least recently used out), so every read
 *              misses: the database is read, and the product is put in the cache for nothing.
 * Both read products made alike for this run (copies of one demo product, inserted straight into
 * the catalog's table, so that tens of thousands exist within seconds), so the answers are the
 * same size. The cache's own counters (`bazaar_product_cache_lookups_total` of every catalog
 * instance) show what each setup really was: its hit ratio is printed beside it. Rounds alternate
 * the setups; each figure is the median over rounds, the judged ratio the median of the rounds'
 * cached ÷ uncached req/s. Every system process runs on CPU 0, autocannon on CPU 1.
 *
 * Settings (environment): BENCH_SECONDS per round (8), BENCH_ROUNDS (3), BENCH_WARMUP seconds per
 * setup (5), BENCH_CONNECTIONS (32), BENCH_LOG_LEVEL (warn).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { AutocannonFigures } from './lib/autocannon-worker.ts';
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
import { readSeries, type Series, seriesDelta, seriesSum } from './lib/metrics.ts';
import { alternate, medianOf, roundRatios, settle, type Usage, withUsage } from './lib/rounds.ts';
import { BENCH_LOG_LEVEL, describePins, LOAD_CPU, startBenchSystem } from './lib/system.ts';

const NAME = 'catalog-read';
const SECONDS = envNumber('BENCH_SECONDS', 8);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 3)));
const WARMUP = envNumber('BENCH_WARMUP', 5);
const CONNECTIONS = Math.max(1, Math.round(envNumber('BENCH_CONNECTIONS', 32)));
const HOT_PRODUCTS = 8;
/** What one instance's in-process product cache holds (services/catalog/src/cache/memory-store.ts). */
const CACHE_CAPACITY = 10_000;
const METRIC = 'bazaar_product_cache_lookups_total';

type Setup = 'cached' | 'uncached';
const SETUPS: Setup[] = ['cached', 'uncached'];

interface Measurement extends AutocannonFigures {
  usage: Usage;
  /** Cache lookups over the round, every catalog instance: hit, miss, bypass. */
  lookups: Record<'hit' | 'miss' | 'bypass', number>;
  hitRatio: number;
}

/**
 * Inserts `count` copies of one visible product into the catalog's table (names numbered), in one
 * statement; answers their ids.
 */
async function copyProduct(url: string, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: sources } = await client.query<{ id: string }>(
      `SELECT id FROM products WHERE NOT hidden ORDER BY available IS NULL, created_at LIMIT 1`,
    );
    if (!sources[0]) throw new Error('the catalog has no visible product to copy');
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO products (merchant_id, name, description, price, currency, category, image_url,
                             available, available_as_of, available_revision)
       SELECT merchant_id, left(name, 180) || ' #' || lpad(g::text, 6, '0'), description, price,
              currency, category, image_url, available, available_as_of, available_revision
       FROM products, generate_series(1, $2::int) AS g
       WHERE id = $1
       RETURNING id`,
      [sources[0].id, count],
    );
    return rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

async function bytesOf(url: string): Promise<number> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return body.byteLength;
}

async function main(): Promise<BenchResult> {
  const startedAt = new Date();
  console.log(`${NAME}: starting the system (log level ${BENCH_LOG_LEVEL})…`);
  const { system, pinAll } = await startBenchSystem();
  const catalogs = system.instances.filter((i) => i.service === 'catalog' && i.url);
  if (catalogs.length === 0) throw new Error('no catalog instance');

  // Between two reads of one product an instance must see more other products than it holds.
  const productCount = Math.ceil(CACHE_CAPACITY * 1.25) * catalogs.length + HOT_PRODUCTS;
  const insertStarted = performance.now();
  const ids = await copyProduct(system.cluster.url('catalog'), productCount);
  console.log(
    `${NAME}: ${ids.length} products inserted into catalog's table in ${fmt((performance.now() - insertStarted) / 1000, 1)} s`,
  );
  const paths = (list: string[]) => list.map((id) => `/api/products/${id}`);
  const dir = await tempDir('bazaar-bench-paths-');
  onCleanup('remove the path lists', () => dir.remove());
  const files: Record<Setup, string> = {
    cached: join(dir.path, 'cached.json'),
    uncached: join(dir.path, 'uncached.json'),
  };
  const lists: Record<Setup, string[]> = {
    cached: paths(ids.slice(0, HOT_PRODUCTS)),
    uncached: paths(ids.slice(HOT_PRODUCTS)),
  };
  for (const setup of SETUPS) writeFileSync(files[setup], JSON.stringify(lists[setup]));
  const bytes: Record<Setup, number> = {
    cached: await bytesOf(`${system.gatewayUrl}${lists.cached[0]}`),
    uncached: await bytesOf(`${system.gatewayUrl}${lists.uncached[0]}`),
  };
  // The probe above was one more read of the first uncached product: the list starts after it.
  const offsets: Record<Setup, number> = { cached: 0, uncached: 1 };

  const pins = pinAll();
  console.log(`${NAME}: ${describePins(pins)}; load generator on CPU ${LOAD_CPU}`);
  console.log(
    `${NAME}: GET /api/products/:id through the gateway at ${CONNECTIONS} connections: ${HOT_PRODUCTS} products in turn (cached) vs ${lists.uncached.length} in turn (uncached), catalog ×${catalogs.length}; ${ROUNDS} round(s) of ${SECONDS} s per setup after ${WARMUP} s warm-up`,
  );

  const lookups = async () => {
    const sum: Series = {};
    for (const c of catalogs) {
      for (const [k, v] of Object.entries(await readSeries(c.url!, METRIC))) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  };
  const timeoutMs = (WARMUP + SECONDS) * 1000 + 60_000;
  const load = async (setup: Setup, seconds: number) => {
    const figures = await runWorker<AutocannonFigures>(
      join(import.meta.dirname, 'lib', 'autocannon-worker.ts'),
      {
        url: `${system.gatewayUrl}${lists[setup][0]}`,
        connections: CONNECTIONS,
        seconds,
        pathsFile: files[setup],
        pathOffset: offsets[setup],
      },
      { cpus: LOAD_CPU, timeoutMs },
    );
    offsets[setup] = figures.nextPathOffset ?? offsets[setup];
    return figures;
  };
  const measure = async (setup: Setup): Promise<Measurement> => {
    await settle();
    const before = await lookups();
    const { result, usage } = await withUsage(() => load(setup, SECONDS));
    const delta = seriesDelta(before, await lookups());
    const counts = {
      hit: seriesSum(delta, { result: 'hit' }),
      miss: seriesSum(delta, { result: 'miss' }),
      bypass: seriesSum(delta, { result: 'bypass' }),
    };
    const total = counts.hit + counts.miss + counts.bypass;
    return { ...result, usage, lookups: counts, hitRatio: total > 0 ? counts.hit / total : Number.NaN };
  };

  if (WARMUP > 0) {
    for (const setup of SETUPS) {
      process.stdout.write(`${NAME}: warming up ${setup}…\n`);
      await load(setup, WARMUP);
    }
  }
  const results = await alternate<Setup, Measurement>({
    setups: SETUPS,
    rounds: ROUNDS,
    measure,
    report: ({ setup, round, m }) =>
      console.log(
        `${NAME}: round ${round} ${setup.padEnd(8)} ${fmt(m.rps, 0).padStart(6)} req/s  p50 ${fmt(m.p50Ms, 2)} ms  p99 ${fmt(m.p99Ms, 2)} ms  hits ${fmt(m.hitRatio * 100, 1)}% (hit ${m.lookups.hit}, miss ${m.lookups.miss}, bypass ${m.lookups.bypass})  non-2xx ${m.non2xx}  errors ${m.errors}  cpu0 ${fmt(m.usage.cpu0 * 100, 0)}% (others ${fmt(m.usage.cpu0Others * 100, 0)}%)  loadgen ${fmt(m.cpuShare * 100, 0)}%`,
      ),
  });
  pinAll();

  const med = (setup: Setup, f: (m: Measurement) => number) => medianOf(results, setup, f);
  const of = (setup: Setup) => results.filter((r) => r.setup === setup).map((r) => r.m);
  const perReq = (m: Measurement, kind?: string) =>
    m.ok > 0
      ? ((kind === undefined ? m.usage.oursMs : (m.usage.cpuMs[kind] ?? 0)) * 1000) / m.ok
      : Number.NaN;
  const rpsRatios = roundRatios(results, 'cached', 'uncached', (m) => m.rps);
  // Reads per CPU-second of our own processes: what other work on CPU 0 does not move.
  const cpuRatios = roundRatios(results, 'uncached', 'cached', (m) => perReq(m));

  console.log(
    `\n${NAME}: GET /api/products/:id through the gateway, ${CONNECTIONS} connections, catalog ×${catalogs.length}, median of ${ROUNDS} × ${SECONDS} s`,
  );
  console.log(
    table(
      [
        'setup',
        'req/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'cache hits',
        'non-2xx',
        'errors',
        'CPU0 busy (others)',
        'loadgen CPU',
        'system µs/req',
        'gateway µs/req',
        'catalog µs/req',
        'pg µs/req',
      ],
      SETUPS.map((setup) => {
        const ms = of(setup);
        return [
          setup,
          fmt(
            med(setup, (m) => m.rps),
            0,
          ),
          fmt(
            med(setup, (m) => m.p50Ms),
            2,
          ),
          fmt(
            med(setup, (m) => m.p99Ms),
            2,
          ),
          fmt(Math.max(...ms.map((m) => m.maxMs)), 1),
          `${fmt(med(setup, (m) => m.hitRatio) * 100, 1)}%`,
          String(ms.reduce((s, m) => s + m.non2xx, 0)),
          String(ms.reduce((s, m) => s + m.errors + m.timeouts, 0)),
          `${fmt(med(setup, (m) => m.usage.cpu0) * 100, 0)}% (${fmt(med(setup, (m) => m.usage.cpu0Others) * 100, 0)}%)`,
          `${fmt(med(setup, (m) => m.cpuShare) * 100, 0)}%`,
          fmt(
            med(setup, (m) => perReq(m)),
            0,
          ),
          fmt(
            med(setup, (m) => perReq(m, 'gateway')),
            0,
          ),
          fmt(
            med(setup, (m) => perReq(m, 'catalog')),
            0,
          ),
          fmt(
            med(setup, (m) => perReq(m, 'postgres')),
            0,
          ),
        ];
      }),
    ),
  );
  console.log(
    `per-round cached ÷ uncached: req/s ${rpsRatios.map((r) => fmt(r, 3)).join(' ')}; req per CPU-s ${cpuRatios.map((r) => fmt(r, 3)).join(' ')}`,
  );

  const hitCached = med('cached', (m) => m.hitRatio);
  const hitUncached = med('uncached', (m) => m.hitRatio);
  const ratios: Ratio[] = [
    { name: 'cached ÷ uncached (req/s)', value: median(rpsRatios) },
    { name: 'cached ÷ uncached (req per CPU-s on CPU 0)', value: median(cpuRatios) },
    {
      name: 'uncached ÷ cached (p50 latency)',
      value: med('uncached', (m) => m.p50Ms) / med('cached', (m) => m.p50Ms),
    },
    { name: 'cache hit ratio, cached setup', value: hitCached },
    { name: 'cache hit ratio, uncached setup', value: hitUncached },
    { name: 'cached reads/s', value: med('cached', (m) => m.rps) },
    { name: 'cached p99 ms', value: med('cached', (m) => m.p99Ms) },
  ];
  const notes = [
    `Both setups read products copied from one demo product (${bytes.cached} and ${bytes.uncached} bytes answered), inserted straight into catalog's table for this run.`,
    `The uncached setup cycles through ${lists.uncached.length} products over ${catalogs.length} catalog instance(s) of ${CACHE_CAPACITY} cached products each, so a product is always evicted before it is read again: each read is a miss, a database read and a fill.`,
    `Every system process on CPU 0 (${describePins(pins)}); autocannon alone on CPU ${LOAD_CPU}.`,
    `Log level ${BENCH_LOG_LEVEL}: no per-request access log. Rate limits are off.`,
  ];
  if (hitCached < 0.99)
    notes.push(`The cached setup hit only ${fmt(hitCached * 100, 1)} %: its figures are mixed.`);
  if (hitUncached > 0.05) {
    notes.push(`The uncached setup hit ${fmt(hitUncached * 100, 1)} %: it is not a pure miss path.`);
  }
  const errors = results.reduce((s, r) => s + r.m.non2xx + r.m.errors + r.m.timeouts, 0);
  if (errors > 0) notes.push(`${errors} non-2xx answers or errors: the figures are suspect.`);
  if (results.some((r) => r.m.cpuShare > 0.9)) {
    notes.push(
      'autocannon used over 90 % of its core in some round: that setup may be load-generator bound.',
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
      catalogReplicas: catalogs.length,
      hotProducts: HOT_PRODUCTS,
      coldProducts: lists.uncached.length,
      bodyBytes: bytes,
    },
    figures: { rounds: results, pins },
    ratios,
    notes,
  };
}

if (import.meta.main) {
  await runAsProgram(NAME, main, {
    timeLimitMs: 180_000 + SETUPS.length * (WARMUP + ROUNDS * (SECONDS + 15)) * 1000 * 1.5,
  });
}
