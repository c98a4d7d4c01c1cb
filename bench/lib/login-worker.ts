/**
 * Load generator child for the login benchmark: `node login-worker.ts '<json>'` runs `connections`
 * closed loops of `POST <url>` with `{email, password}` bodies for `seconds` (after an optional
 * unrecorded warm-up), taking the accounts in turn across all loops (so that one account is rarely
 * in two logins at once), and prints one JSON line: logins per second, latency percentiles of the
 * successful ones (an answer of 200 with an access token), answers by status, transport errors and
 * the CPU this process used. Started pinned by `taskset` by the benchmark.
 */
import { createHistogram } from 'node:perf_hooks';
import { Agent, request } from 'undici';

interface Input {
  url: string;
  accounts: { email: string; password: string }[];
  connections: number;
  seconds: number;
  warmupSeconds?: number;
}

export interface LoginFigures {
  connections: number;
  seconds: number;
  attempts: number;
  ok: number;
  /** Answers by status code (200 with no access token counts as `200-no-token`). */
  statuses: Record<string, number>;
  /** Transport errors by code. */
  errors: Record<string, number>;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Latency percentiles of every answer (429s and errors included), ms. */
  allP50Ms: number;
  allP99Ms: number;
  cpuShare: number;
}

async function flood(
  input: Input,
  dispatcher: Agent,
  seconds: number,
  next: () => { email: string; password: string },
): Promise<LoginFigures> {
  const okHistogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const allHistogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let attempts = 0;
  let ok = 0;
  let sumMs = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < endAt) {
      const account = next();
      const t0 = performance.now();
      let status = 'error';
      try {
        const res = await request(input.url, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(account),
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
        });
        const text = await res.body.text();
        status = String(res.statusCode);
        if (res.statusCode === 200) {
          const body = JSON.parse(text) as { accessToken?: unknown };
          if (typeof body.accessToken !== 'string') status = '200-no-token';
        }
      } catch (err) {
        const key = (err as { code?: string }).code ?? (err as Error).message;
        errors[key] = (errors[key] ?? 0) + 1;
      }
      const us = Math.max(1, Math.round((performance.now() - t0) * 1000));
      attempts++;
      allHistogram.record(us);
      if (status === 'error') continue;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === '200') {
        ok++;
        sumMs += us / 1000;
        okHistogram.record(us);
      }
    }
  };
  await Promise.all(Array.from({ length: input.connections }, loop));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const pct = (h: ReturnType<typeof createHistogram>, n: number, p: number) =>
    n > 0 ? h.percentile(p) / 1000 : Number.NaN;
  return {
    connections: input.connections,
    seconds: elapsedMs / 1000,
    attempts,
    ok,
    statuses,
    errors,
    rps: ok / (elapsedMs / 1000),
    p50Ms: pct(okHistogram, ok, 50),
    p90Ms: pct(okHistogram, ok, 90),
    p99Ms: pct(okHistogram, ok, 99),
    maxMs: ok > 0 ? okHistogram.max / 1000 : Number.NaN,
    meanMs: ok > 0 ? sumMs / ok : Number.NaN,
    allP50Ms: pct(allHistogram, attempts, 50),
    allP99Ms: pct(allHistogram, attempts, 99),
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(input.url)) throw new Error('only 127.0.0.1 is a target');
  if (!input.connections || !input.seconds || !input.accounts?.length) {
    throw new Error('url, accounts, connections, seconds needed');
  }
  const dispatcher = new Agent({ connections: input.connections, keepAliveTimeout: 10_000 });
  let turn = 0;
  const next = () => input.accounts[turn++ % input.accounts.length]!;
  if (input.warmupSeconds && input.warmupSeconds > 0) {
    await flood(input, dispatcher, input.warmupSeconds, next);
  }
  const figures = await flood(input, dispatcher, input.seconds, next);
  await dispatcher.close();
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  process.exit(1);
});
