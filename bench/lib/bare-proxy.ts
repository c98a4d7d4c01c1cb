/**
 * The bare proxy the gateway is compared with: a node:http server that forwards every request to
 * ONE upstream with an undici Pool and streams the answer back. No routing table, balancing,
 * breakers, retries, deadlines, metrics, logs or security headers: the floor a Node proxy hop costs.
 *
 * `BARE_UPSTREAM=http://127.0.0.1:<port> BARE_PORT=<port> node bench/lib/bare-proxy.ts`; prints
 * `listening <port>` once it listens.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

const upstream = process.env.BARE_UPSTREAM;
if (!upstream || !/^http:\/\/127\.0\.0\.1:\d+$/.test(upstream)) {
  throw new Error('BARE_UPSTREAM must be http://127.0.0.1:<port>');
}
const port = Number(process.env.BARE_PORT ?? 0);

const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });

// undici refuses these on a request, and they are the hop's own business on an answer.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'expect',
]);

function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const method = (req.method ?? 'GET') as 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  pool.stream(
    {
      path: req.url ?? '/',
      method,
      headers: forwardable(req.headers),
      body: hasBody ? req : null,
    },
    ({ statusCode, headers }) => {
      res.writeHead(statusCode, forwardable(headers));
      return res;
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    },
  );
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
});

const stop = () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
