/**
 * Load generator child for the failover benchmark: `node read-loop-worker.ts '<json>'` runs
 * `connections` closed loops of GETs against one URL for `seconds`, recording every request's start
 * (epoch ms), duration and status (-1 for a transport error), which it writes to `out` as JSON.
 * Prints `started <epoch ms>` when the loops begin, and a JSON summary line at the end. Bounded in
 * time and in count. Started pinned by `taskset` by the benchmark.
 */
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';

interface Input {
  url: string;
  connections: number;
  seconds: number;
  out: string;
  maxRequests?: number;
}

/** Per request: start (ms since `t0`), duration ms, status (-1 error). */
export type RequestRecord = [number, number, number];

export interface ReadLoopOutput {
  /** Epoch ms the loops started at. */
  t0: number;
  requests: number;
  cpuShare: number;
  /** Error messages seen, with counts. */
  errors: Record<string, number>;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(input.url)) throw new Error('only 127.0.0.1 is a target');
  const maxRequests = input.maxRequests ?? 2_000_000;
  const dispatcher = new Agent({ connections: input.connections, keepAliveTimeout: 10_000 });
  const records: RequestRecord[] = [];
  const errors: Record<string, number> = {};
  const now = () => performance.timeOrigin + performance.now();
  const t0 = now();
  const endAt = t0 + input.seconds * 1000;
  const cpuBefore = process.cpuUsage();
  process.stdout.write(`started ${t0}\n`);
  const loop = async () => {
    while (now() < endAt && records.length < maxRequests) {
      const started = now();
      let status = -1;
      try {
        const res = await request(input.url, {
          dispatcher,
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
        });
        await res.body.arrayBuffer();
        status = res.statusCode;
      } catch (err) {
        const key = (err as { code?: string }).code ?? (err as Error).message;
        errors[key] = (errors[key] ?? 0) + 1;
      }
      const ended = now();
      records.push([started - t0, ended - started, status]);
    }
  };
  await Promise.all(Array.from({ length: input.connections }, loop));
  const cpu = process.cpuUsage(cpuBefore);
  await dispatcher.close();
  writeFileSync(input.out, JSON.stringify(records));
  const output: ReadLoopOutput = {
    t0,
    requests: records.length,
    cpuShare: (cpu.user + cpu.system) / 1000 / (now() - t0),
    errors,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  process.exit(1);
});
