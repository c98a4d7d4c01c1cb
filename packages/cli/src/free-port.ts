import { createServer } from 'node:net';

/** Whether `port` on `host` can be listened on right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on `host` that is free now, never one of `avoid` (5432 by default: a local PostgreSQL may want it). */
export async function findFreePort(options: { host?: string; avoid?: number[] } = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const avoid = new Set(options.avoid ?? [5432]);
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ port: 0, host, exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (port > 0 && !avoid.has(port)) return port;
  }
  throw new Error(`could not find a free port on ${host}`);
}
