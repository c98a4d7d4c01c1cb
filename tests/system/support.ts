import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service, ServiceList } from '@bazaar/contracts';
import { removeDataDir } from '../../packages/cli/src/data-dir.ts';
import { type System, startSystem } from '../../packages/cli/src/system.ts';
import {
  type CheckOptions,
  checkInvariants,
  formatInvariants,
  type ShopDatabases,
} from '../support/invariants.ts';
import { freePort } from '../support/ports.ts';
import { assertNoSecretsLogged } from '../support/secret-scan.ts';

/** Starts the whole embedded system on free ports in a fresh data folder. */
export async function startTestSystem(
  options: {
    replicas?: Record<string, number>;
    env?: Record<string, string>;
    serviceEnv?: Record<string, Record<string, string>>;
    skipDemoStock?: boolean;
    restartBackoff?: { initialMs?: number; maxMs?: number };
  } = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'bazaar-system-'));
  const started = startSystem({
    dataDir,
    gatewayPort: await freePort(),
    registryPort: await freePort(),
    quiet: true,
    logLevel: 'info',
    replicas: options.replicas,
    env: options.env,
    serviceEnv: options.serviceEnv,
    restartBackoff: options.restartBackoff,
    // Tests set the stock they need; the demo's 66 products would only slow every start.
    skipDemoStock: options.skipDemoStock ?? true,
  });
  // A start that fails has stopped what it started; its instances' logs say why, so they stay.
  const system = await started.catch((err: unknown) => {
    console.log(`the system did not start: its data and logs are kept in ${dataDir}`);
    throw err;
  });
  return {
    system,
    async stop() {
      await system.stop();
      // Every system a test ran is checked for secrets in its logs before its data goes.
      try {
        assertNoSecretsLogged(dataDir);
      } catch (err) {
        console.log(`test data kept in ${dataDir}`);
        throw err;
      }
      // BAZAAR_KEEP_TEST_DATA=1 keeps the cluster and the instances' JSON logs for a post-mortem.
      if (process.env.BAZAAR_KEEP_TEST_DATA) console.log(`test data kept in ${dataDir}`);
      else await removeDataDir(dataDir);
    },
  };
}

/** The registry's view of one service. */
export async function registryService(system: System, name: string): Promise<Service> {
  const res = await fetch(`${system.registryUrl}/v1/services`);
  const list = (await res.json()) as ServiceList;
  return list.services.find((s) => s.name === name) ?? { name, instances: [] };
}

/** A Prometheus sample of an instance's /metrics, summed over the series that match. */
export async function sampleSum(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** Sets injected faults on one instance (embedded mode's chaos control). */
export async function setChaos(
  url: string,
  credential: string,
  chaos: { delayMs?: number; errorRate?: number },
) {
  const res = await fetch(`${url}/internal/chaos`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ delayMs: 0, errorRate: 0, ...chaos }),
  });
  if (res.status !== 200) throw new Error(`chaos control answered ${res.status}`);
}

/** Whether a process exists. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The databases the invariant checker reads, in the system's embedded cluster. */
export function shopDatabases(system: System): ShopDatabases {
  const url = (db: string) => system.cluster.url(db);
  return {
    orders: url('orders'),
    inventory: url('inventory'),
    payments: url('payments'),
    outboxes: Object.fromEntries(
      ['catalog', 'inventory', 'cart', 'payments', 'orders'].map((db) => [db, url(db)]),
    ),
  };
}

/**
 * Runs the invariant checker, prints its report, and fails the test on any violation. Waits up to
 * `settleMs` for the outboxes to drain and orders to settle first (they may still be moving).
 */
export async function assertInvariants(system: System, options: CheckOptions & { settleMs?: number } = {}) {
  const until = Date.now() + (options.settleMs ?? 30_000);
  let results = await checkInvariants(shopDatabases(system), options);
  while (results.some((r) => r.violations > 0) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    results = await checkInvariants(shopDatabases(system), options);
  }
  console.log(formatInvariants(results));
  for (const r of results) assert.equal(r.violations, 0, `${r.id} ${r.title}: ${r.examples.join('; ')}`);
}

/**
 * Probes until `ok` holds and answers that value; a probe that throws counts as "not yet" (the
 * instance it asks may be restarting). Fails after `ms`, showing the last value or error.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  { ms = 20_000, everyMs = 200 }: { ms?: number; everyMs?: number } = {},
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (ok(value)) return value;
      last = value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
