import { parseArgs } from 'node:util';
import { UsageError } from './usage.ts';

/** One instance as the registry lists it. */
interface RegistryInstance {
  id: string;
  host: string;
  port: number;
  version?: string;
  status?: string;
  lastHeartbeatAt?: string | number;
  metadata?: Record<string, string>;
}

/** The registry's `GET /v1/services` answer. */
interface ServicesAnswer {
  services: { name: string; instances: RegistryInstance[] }[];
}

/** How long ago `at` was, e.g. `1.2 s ago`. */
export function age(at: string | number | undefined, now: number): string {
  if (at === undefined) return '-';
  const time = new Date(at).getTime();
  if (Number.isNaN(time)) return '-';
  const ms = Math.max(0, now - time);
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / 3_600_000)} h ago`;
}

/** Lays rows out in columns under a header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => (cell ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Options of {@link runStatus}. */
export interface StatusOptions {
  /** Registry base URL(s), comma-separated; tried in turn. */
  registryUrl: string;
  /** Output (default stdout). */
  write?: (text: string) => void;
  /** Error output (default stderr). */
  writeError?: (text: string) => void;
  /** Request timeout (default 3 s). */
  timeoutMs?: number;
  /** The gateway, whose view of circuit states is shown alongside. */
  gatewayUrl?: string;
}

/** `ready`, `not ready` or `unreachable`, from an instance's own `/health/ready`. */
async function readiness(instance: RegistryInstance, timeoutMs: number): Promise<string> {
  try {
    const res = await fetch(`http://${instance.host}:${instance.port}/health/ready`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status === 200 ? 'ready' : 'not ready';
  } catch {
    return 'unreachable';
  }
}

/**
 * The gateway's view of each instance's circuit (`closed`, `open`, `half-open`), keyed by
 * `host:port`, read from its Prometheus metrics (`/api/ops/services` is for signed-in admins).
 */
async function gatewayCircuits(
  gatewayUrl: string | undefined,
  timeoutMs: number,
): Promise<Map<string, string> | undefined> {
  if (!gatewayUrl) return undefined;
  try {
    const res = await fetch(`${gatewayUrl.replace(/\/+$/, '')}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) return undefined;
    const names = ['closed', 'open', 'half-open'];
    const circuits = new Map<string, string>();
    for (const line of (await res.text()).split('\n')) {
      const match = /^bazaar_client_circuit_state\{[^}]*instance="([^"]+)"[^}]*\} (\d+)/.exec(line);
      if (match) circuits.set(match[1]!, names[Number(match[2])] ?? match[2]!);
    }
    return circuits;
  } catch {
    return undefined;
  }
}

/** `bazaar status`: prints the registry's services and instances; resolves with the exit code. */
export async function runStatus(options: StatusOptions): Promise<number> {
  const write = options.write ?? ((t: string) => void process.stdout.write(t));
  const writeError = options.writeError ?? ((t: string) => void process.stderr.write(t));
  const urls = options.registryUrl
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  const timeoutMs = options.timeoutMs ?? 3_000;
  const failures: string[] = [];
  for (const base of urls) {
    let answer: ServicesAnswer;
    try {
      const response = await fetch(`${base}/v1/services`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) {
        failures.push(`${base}: HTTP ${response.status}`);
        continue;
      }
      answer = (await response.json()) as ServicesAnswer;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      failures.push(`${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      continue;
    }
    const now = Date.now();
    const instances = (answer.services ?? []).flatMap((service) => service.instances);
    const [health, circuits] = await Promise.all([
      Promise.all(instances.map((i) => readiness(i, timeoutMs))),
      gatewayCircuits(options.gatewayUrl, timeoutMs),
    ]);
    const healthOf = new Map(instances.map((i, n) => [i.id, health[n]!]));
    const rows: string[][] = [];
    for (const service of answer.services ?? []) {
      if (service.instances.length === 0)
        rows.push([service.name, '-', '-', '-', '-', 'no instances', '-', '-', '-']);
      for (const instance of service.instances) {
        rows.push([
          service.name,
          instance.id,
          instance.metadata?.pid || '-',
          `${instance.host}:${instance.port}`,
          instance.version ?? '-',
          instance.status ?? '-',
          healthOf.get(instance.id) ?? '-',
          circuits?.get(`${instance.host}:${instance.port}`) ?? '-',
          age(instance.lastHeartbeatAt, now),
        ]);
      }
    }
    write(`Registry ${base}\n\n`);
    write(
      rows.length === 0
        ? 'No services are registered.\n'
        : `${table(['SERVICE', 'INSTANCE', 'PID', 'ADDRESS', 'VERSION', 'STATUS', 'HEALTH', 'CIRCUIT', 'LAST HEARTBEAT'], rows)}\n`,
    );
    if (!circuits) write('\n(circuit states come from the gateway, which did not answer)\n');
    return 0;
  }
  writeError(
    `bazaar status: the registry is unreachable (${failures.join('; ')}).\n` +
      'Is Bazaar running? Start it with `npm start`, or point to it with --registry URL or BAZAAR_REGISTRY_URL.\n',
  );
  return 1;
}

/** Parses `bazaar status` arguments and runs it. */
export async function statusCommand(argv: string[]): Promise<number> {
  let values: { registry?: string; gateway?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { registry: { type: 'string' }, gateway: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return runStatus({
    registryUrl: values.registry ?? process.env.BAZAAR_REGISTRY_URL ?? 'http://127.0.0.1:8761',
    gatewayUrl: values.gateway ?? `http://127.0.0.1:${process.env.BAZAAR_GATEWAY_PORT ?? '8080'}`,
  });
}
