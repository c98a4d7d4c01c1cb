/**
 * Live config as `startService` wires it, against a fake registry: fetched at start, fetched again
 * when the watch pushes a `config` event for the service, applied to the log level and the service's
 * hook, and reported in heartbeats — a refused version included.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { ConfigDocument, Heartbeat } from '@bazaar/contracts';
import { defineService } from '../src/definition.ts';
import { startService } from '../src/start.ts';
import { sleep } from '../src/time.ts';

const CREDENTIAL = 'bzc_payments_0123456789abcdefghijk';

/** The registry, as far as one instance sees it. */
const registry = {
  url: '',
  document: { service: 'payments', version: 0, values: {} } as ConfigDocument,
  fetches: 0,
  heartbeats: [] as Heartbeat[],
  watchers: new Set<ServerResponse>(),
  push(service: string, version: number) {
    for (const w of registry.watchers)
      w.write(`event: config\ndata: ${JSON.stringify({ service, version })}\n\n`);
  },
  set(version: number, values: Record<string, unknown>) {
    registry.document = { service: 'payments', version, values };
  },
};

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    const url = req.url ?? '';
    if (url === '/v1/watch') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: snapshot\ndata: ${JSON.stringify({ services: [] })}\n\n`);
      registry.watchers.add(res);
      res.on('close', () => registry.watchers.delete(res));
      return;
    }
    if (url === '/v1/config/payments') {
      if (req.headers.authorization !== `Bearer ${CREDENTIAL}`) res.writeHead(401).end();
      else {
        registry.fetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(registry.document));
      }
      return;
    }
    if (url.endsWith('/heartbeat')) {
      if (body) registry.heartbeats.push(JSON.parse(body) as Heartbeat);
      res.writeHead(204).end();
      return;
    }
    if (url.startsWith('/v1/instances/')) {
      res.writeHead(req.method === 'PUT' ? 201 : 204, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    res.writeHead(404).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  for (const w of registry.watchers) w.end();
  server.closeAllConnections();
  server.close();
});

function paymentsLike(seen: { values: Record<string, unknown> }[]) {
  return defineService({
    name: 'payments',
    routes: () => undefined,
    liveConfig: (values) => {
      const declineRate = (values.simulator as { declineRate: number }).declineRate;
      if (declineRate === 0.5) throw new Error('half-declines are not supported here');
      seen.push({ values });
    },
  });
}

const env = () => ({
  BAZAAR_REGISTRY_URL: registry.url,
  BAZAAR_SERVICE_CREDENTIAL: CREDENTIAL,
  BAZAAR_LOG_LEVEL: 'silent',
});

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

test('an instance applies pushed versions of its own config and reports what it applied', async () => {
  registry.set(0, {});
  const seen: { values: Record<string, unknown> }[] = [];
  const running = await startService(paymentsLike(seen), { env: env(), handleSignals: false });
  try {
    const { ctx } = running;
    assert.equal(ctx.liveConfig.version, 0);
    assert.equal(seen.length, 0, 'version 0 applies nothing');
    assert.equal(ctx.log.level, 'silent', 'the environment log level holds');

    registry.set(1, { logLevel: 'fatal', simulator: { declineRate: 1 } });
    registry.push('payments', 1);
    await until('version 1 applied', () => ctx.liveConfig.version === 1);
    assert.deepEqual(seen.at(-1)?.values.simulator, { declineRate: 1, errorRate: 0, latencyMs: 0 });
    assert.equal(ctx.log.level, 'fatal');

    const fetches = registry.fetches;
    registry.push('orders', 7);
    await sleep(100);
    assert.equal(registry.fetches, fetches, "another service's change is not fetched");

    registry.set(2, { simulator: { declineRate: 0.5 } });
    registry.push('payments', 2);
    await until('the refusal is reported in a heartbeat', () =>
      registry.heartbeats.some((h) => h.config?.error?.includes('version 2 not applied') ?? false),
    );
    const last = registry.heartbeats.at(-1)!;
    assert.equal(last.config?.version, 1);
    assert.match(last.config?.error ?? '', /half-declines are not supported here/);
    assert.equal(ctx.liveConfig.version, 1);
    assert.equal(ctx.log.level, 'fatal', 'a refused version changes nothing');
  } finally {
    await running.stop();
  }
});

test('an instance that starts while a version is set applies it before it serves', async () => {
  registry.set(3, { logLevel: 'error', simulator: { errorRate: 0.25 } });
  const seen: { values: Record<string, unknown> }[] = [];
  const running = await startService(paymentsLike(seen), { env: env(), handleSignals: false });
  try {
    assert.equal(running.ctx.liveConfig.version, 3);
    assert.equal(running.ctx.log.level, 'error');
    assert.deepEqual(seen[0]?.values.simulator, { declineRate: 0, errorRate: 0.25, latencyMs: 0 });
  } finally {
    await running.stop();
  }
});
