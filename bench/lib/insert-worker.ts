/**
 * Load generator child for the checkout benchmark's yardstick: `node insert-worker.ts '<json>'`
 * opens `connections` connections to one database (its URL in the environment variable named by
 * `urlVariable`), each running a closed loop of single-row `INSERT` transactions (autocommit: one
 * commit, one WAL flush each) into `table` for `seconds`, after an optional unrecorded warm-up. Prints one JSON line: transactions per second, latency
 * percentiles, the `synchronous_commit` and `fsync` each connection ran with, the CPU of the
 * connections' backends and of this process. Started pinned by `taskset` by the benchmark.
 */
import { createHistogram } from 'node:perf_hooks';
import pg from 'pg';
import { processCpuMs } from './common.ts';

interface Input {
  /** The environment variable that holds the database URL (kept off the command line: it has a password). */
  urlVariable: string;
  table: string;
  connections: number;
  seconds: number;
  warmupSeconds?: number;
}

export interface InsertFigures {
  connections: number;
  seconds: number;
  inserts: number;
  insertsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  errors: Record<string, number>;
  /** `synchronous_commit` / `fsync` as each connection saw them (value → connections). */
  synchronousCommit: Record<string, number>;
  fsync: Record<string, number>;
  /** CPU time of the connections' PostgreSQL backends over the window, ms. */
  backendCpuMs: number;
  cpuShare: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  const url = process.env[input.urlVariable ?? ''] ?? '';
  if (!/^postgres(ql)?:\/\/([^@/]*@)?127\.0\.0\.1:\d+\//.test(url)) {
    throw new Error('only a cluster on 127.0.0.1 is a target');
  }
  if (!/^[a-z_][a-z0-9_]*$/.test(input.table ?? '')) throw new Error('table must be a plain name');
  if (!input.connections || !input.seconds) throw new Error('url, table, connections, seconds needed');

  const clients = Array.from({ length: input.connections }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  const synchronousCommit: Record<string, number> = {};
  const fsync: Record<string, number> = {};
  const backends: number[] = [];
  for (const c of clients) {
    const { rows } = await c.query<{ sc: string; fsync: string; pid: number }>(
      `SELECT current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fsync,
              pg_backend_pid() AS pid`,
    );
    const row = rows[0]!;
    synchronousCommit[row.sc] = (synchronousCommit[row.sc] ?? 0) + 1;
    fsync[row.fsync] = (fsync[row.fsync] ?? 0) + 1;
    backends.push(row.pid);
  }
  const sql = `INSERT INTO ${input.table} (payload) VALUES ($1)`;
  const payload = 'x'.repeat(64);

  const flood = async (seconds: number) => {
    const histogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
    const errors: Record<string, number> = {};
    let inserts = 0;
    let sumMs = 0;
    const backendBefore = backends.reduce((s, pid) => s + processCpuMs(pid), 0);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const endAt = started + seconds * 1000;
    const loop = async (client: pg.Client) => {
      while (performance.now() < endAt) {
        const t0 = performance.now();
        try {
          await client.query(sql, [payload]);
        } catch (err) {
          const key = (err as { code?: string }).code ?? (err as Error).message;
          errors[key] = (errors[key] ?? 0) + 1;
          continue;
        }
        const ms = performance.now() - t0;
        inserts++;
        sumMs += ms;
        histogram.record(Math.max(1, Math.round(ms * 1000)));
      }
    };
    await Promise.all(clients.map(loop));
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const at = (p: number) => (inserts > 0 ? histogram.percentile(p) / 1000 : Number.NaN);
    const figures: InsertFigures = {
      connections: clients.length,
      seconds: elapsedMs / 1000,
      inserts,
      insertsPerSecond: inserts / (elapsedMs / 1000),
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      maxMs: inserts > 0 ? histogram.max / 1000 : Number.NaN,
      meanMs: inserts > 0 ? sumMs / inserts : Number.NaN,
      errors,
      synchronousCommit,
      fsync,
      backendCpuMs: backends.reduce((s, pid) => s + processCpuMs(pid), 0) - backendBefore,
      cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
    };
    return figures;
  };

  if (input.warmupSeconds && input.warmupSeconds > 0) await flood(input.warmupSeconds);
  const figures = await flood(input.seconds);
  await Promise.all(clients.map((c) => c.end()));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  process.exit(1);
});
