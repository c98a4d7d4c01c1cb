import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Whether `port` on `host` can be listened on right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Where chosen ports start: above the registered well-known services most machines run. */
const LOWEST_CHOSEN = 15_000;

/**
 * The ports the kernel hands out to outgoing connections (Linux's ip_local_port_range), or
 * undefined where that is not known. A port chosen from inside that range can be taken by any
 * outgoing connection — a pool's connection to Postgres, say — between the moment it is chosen
 * and the moment the process it was chosen for listens on it; CI once lost a whole system test
 * suite to a gateway that could not bind the port chosen for it seconds earlier.
 */
function ephemeralRange(): { low: number; high: number } | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && low <= high) return { low, high };
  } catch {
    // not Linux, or no /proc: fall back to the kernel's choice
  }
  return undefined;
}

/** A port the kernel picks (port 0), free now. */
function kernelPort(host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(chosen));
    });
  });
}

/**
 * Ports this process handed out lately, newest last. A port is handed out free but not yet listened
 * on (the gateway's and the registry's are chosen before either starts), so checking it cannot show
 * that it is taken: CI once lost a suite to a gateway handed the port just handed to its registry.
 */
const handedOut = new Set<number>();
const REMEMBERED = 1_000;

/**
 * A port on `host` that is free now, never one of `avoid` (5432 by default: a local PostgreSQL
 * may want it) nor one this process handed out lately. It is picked at random below the kernel's
 * ephemeral range where that leaves room, so no outgoing connection can take it before it is
 * listened on; otherwise the kernel picks.
 */
export async function findFreePort(options: { host?: string; avoid?: number[] } = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const avoid = new Set(options.avoid ?? [5432]);
  const range = ephemeralRange();
  const below = range && range.low - LOWEST_CHOSEN >= 1000 ? range.low - LOWEST_CHOSEN : 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port =
      below > 0 && attempt < 40 ? LOWEST_CHOSEN + Math.floor(Math.random() * below) : await kernelPort(host);
    if (port > 0 && !avoid.has(port) && !handedOut.has(port) && (await portIsFree(port, host))) {
      handedOut.add(port);
      if (handedOut.size > REMEMBERED) handedOut.delete(handedOut.values().next().value!);
      return port;
    }
  }
  throw new Error(`could not find a free port on ${host}`);
}
