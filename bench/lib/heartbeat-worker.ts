/**
 * Load generator child for the registry-scale benchmark: `node heartbeat-worker.ts '<json>'` plays
 * many service instances against one registry, as the kit's `Registration` does for a real one:
 * register (`PUT /v1/instances/:id`), then a heartbeat `heartbeatMs` after the previous one ended
 * (`PUT …/heartbeat` with the applied config), registering again on 404. A few watchers hold
 * `GET /v1/watch` streams open. The instances grow in steps; at each step, once every new instance
 * is registered and `warmSeconds` have passed, it prints `measure <instances>`, then, after
 * `measureSeconds`, `measured <json>` with the step's heartbeat figures. At the end every instance
 * deregisters and the last line is the JSON summary. Bounded in time and count; 127.0.0.1 only.
 */
import { Agent, request } from 'undici';
import { forEachLimited } from './common.ts';

interface Input {
  registryUrl: string;
  /** Service name → its credential: instances are spread over these services evenly. */
  credentials: Record<string, string>;
  steps: number[];
  heartbeatMs: number;
  warmSeconds: number;
  measureSeconds: number;
  watchers: number;
  connections: number;
}

export interface StepFigures {
  instances: number;
  heartbeats: number;
  perSecond: number;
  /** Heartbeats not answered 204: 404 (registered again), other statuses, transport errors. */
  notFound: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Heartbeats whose instance had gone longer than a lease without a renewal. */
  lateBeyondLease: number;
}

export interface HeartbeatSummary {
  steps: StepFigures[];
  deregistered: number;
  watchEvents: number;
}

const LEASE_MS = 6_000;

interface Sim {
  id: string;
  service: string;
  port: number;
  lastRenewedAt: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(input.registryUrl)) throw new Error('only 127.0.0.1 is a target');
  const dispatcher = new Agent({ connections: input.connections, keepAliveTimeout: 30_000 });
  const services = Object.keys(input.credentials);
  const sims: Sim[] = [];
  let stopping = false;
  // Heartbeats of the current measuring window, or undefined outside one.
  let window: { latencies: number[]; notFound: number; failed: number; late: number } | undefined;

  const call = async (sim: Sim, method: 'PUT' | 'DELETE', path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${input.credentials[sim.service]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${input.registryUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
    });
    await res.body.dump();
    return res.statusCode;
  };
  const register = (sim: Sim) =>
    call(sim, 'PUT', `/v1/instances/${sim.id}`, {
      service: sim.service,
      host: '127.0.0.1',
      port: sim.port,
      version: 'bench',
    });

  const beat = async (sim: Sim) => {
    if (stopping) return;
    const started = performance.now();
    let status: number;
    try {
      status = await call(sim, 'PUT', `/v1/instances/${sim.id}/heartbeat`, {
        config: { version: 1, error: null },
      });
    } catch {
      status = -1;
    }
    const ended = performance.now();
    if (window) {
      window.latencies.push(ended - started);
      if (status === 404) window.notFound++;
      else if (status !== 204) window.failed++;
      if (started - sim.lastRenewedAt > LEASE_MS) window.late++;
    }
    if (status === 204) sim.lastRenewedAt = ended;
    else if (status === 404) await register(sim).catch(() => undefined);
    if (!stopping) setTimeout(() => void beat(sim), input.heartbeatMs).unref();
  };

  let watchEvents = 0;
  const watchAbort = new AbortController();
  // Streams hold their connection for good: on the instances' pool they would starve the heartbeats.
  const watchDispatcher = new Agent({ keepAliveTimeout: 30_000 });
  for (let i = 0; i < input.watchers; i++) {
    void request(`${input.registryUrl}/v1/watch`, {
      dispatcher: watchDispatcher,
      signal: watchAbort.signal,
      bodyTimeout: 0,
    })
      .then(async (res) => {
        for await (const chunk of res.body) watchEvents += String(chunk).split('\n\n').length - 1;
      })
      .catch(() => undefined);
  }

  const steps: StepFigures[] = [];
  for (const target of input.steps) {
    const added: Sim[] = [];
    for (let i = sims.length; i < target; i++) {
      const service = services[i % services.length]!;
      added.push({ id: `bench-${service}-${i}`, service, port: 10_000 + (i % 50_000), lastRenewedAt: 0 });
    }
    await forEachLimited(added, 16, async (sim) => {
      const status = await register(sim);
      if (status !== 200 && status !== 201) throw new Error(`registration answered ${status}`);
      sim.lastRenewedAt = performance.now();
      sims.push(sim);
      // Each starts its beat at its own phase, as instances started at different times do.
      setTimeout(() => void beat(sim), Math.random() * input.heartbeatMs).unref();
    });
    await new Promise((r) => setTimeout(r, input.warmSeconds * 1000));
    window = { latencies: [], notFound: 0, failed: 0, late: 0 };
    process.stdout.write(`measure ${sims.length}\n`);
    await new Promise((r) => setTimeout(r, input.measureSeconds * 1000));
    const w = window;
    window = undefined;
    const sorted = w.latencies.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const figures: StepFigures = {
      instances: sims.length,
      heartbeats: sorted.length,
      perSecond: sorted.length / input.measureSeconds,
      notFound: w.notFound,
      failed: w.failed,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.at(-1) ?? 0,
      lateBeyondLease: w.late,
    };
    steps.push(figures);
    process.stdout.write(`measured ${JSON.stringify(figures)}\n`);
  }

  stopping = true;
  watchAbort.abort();
  let deregistered = 0;
  await forEachLimited(sims, 16, async (sim) => {
    const status = await call(sim, 'DELETE', `/v1/instances/${sim.id}`).catch(() => -1);
    if (status === 204) deregistered++;
  });
  await Promise.all([dispatcher.close(), watchDispatcher.close()]).catch(() => undefined);
  const summary: HeartbeatSummary = { steps, deregistered, watchEvents };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(0);
}

await main();
