import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to a connection. `pass` forwards both ways. `latency` delays every chunk.
 * `reset` resets new connections at once. `hang` accepts and never answers. `dropResponse` forwards
 * the requests whose first line matches `match` to the target, then cuts the client off (reset) as
 * the answer comes back — "the provider committed, the answer was lost" — at most `times` times.
 * `closeAfter` forwards only the first `bytes` bytes of each answer, then closes.
 */
export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'dropResponse'; match: RegExp; times: number }
  | { kind: 'closeAfter'; bytes: number };

/** A TCP fault proxy of our own (no such tool installs here), in front of one target. */
export interface FaultProxy {
  port: number;
  /** Where connections go; can be set after the proxy listens (the target's port may come later). */
  target: { host: string; port: number } | undefined;
  mode: FaultMode;
  /** Responses cut off by `dropResponse` so far. */
  dropped: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Starts a fault proxy on a free loopback port (or `port`). */
export async function startFaultProxy(
  options: { port?: number; mode?: FaultMode } = {},
): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    port: 0,
    target: undefined,
    mode: options.mode ?? { kind: 'pass' },
    dropped: 0,
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    proxy.connections++;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    // The mode is read when a connection opens (reset, hang) and on every chunk (the rest), so a
    // change reaches keep-alive connections already open.
    const mode = proxy.mode;
    if (mode.kind === 'reset' || !proxy.target) {
      client.resetAndDestroy();
      return;
    }
    if (mode.kind === 'hang') return;
    const upstream = connect(proxy.target.port, proxy.target.host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    let doomed = false;
    let sentBack = 0;
    const later = (fn: () => void) => {
      const now = proxy.mode;
      if (now.kind === 'latency') setTimeout(fn, now.ms);
      else fn();
    };
    client.on('data', (chunk: Buffer) => {
      const mode = proxy.mode;
      if (mode.kind === 'dropResponse' && proxy.dropped < mode.times) {
        const firstLine = chunk.toString('latin1', 0, Math.min(chunk.length, 512)).split('\r\n', 1)[0] ?? '';
        if (mode.match.test(firstLine)) doomed = true;
      }
      later(() => upstream.write(chunk));
    });
    upstream.on('data', (chunk: Buffer) => {
      const mode = proxy.mode;
      if (doomed) {
        // The target has done the work and begun its answer: the caller never hears it.
        proxy.dropped++;
        doomed = false;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (mode.kind === 'closeAfter') {
        const room = mode.bytes - sentBack;
        if (room <= 0) return;
        sentBack += Math.min(room, chunk.length);
        client.write(chunk.subarray(0, room));
        if (sentBack >= mode.bytes) client.end();
        return;
      }
      later(() => client.write(chunk));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}
