import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import pino from 'pino';
import { Agent } from 'undici';
import {
  continueTrace,
  createMetrics,
  Deadline,
  DeadlineExceededError,
  runWithContext,
  ServiceClient,
  ServiceUnavailableError,
  UpstreamError,
} from '../src/index.ts';
import { StaticInstances } from '../src/testing/index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
const dispatcher = new Agent({ connect: { timeout: 500 } });

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await dispatcher.close();
});

async function serve(handler: Handler): Promise<{ address: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, server };
}

/** A port nobody listens on. */
async function closedPort(): Promise<string> {
  const { address, server } = await serve(() => undefined);
  await new Promise((resolve) => server.close(resolve));
  return address;
}

const ok: Handler = (_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end('{"ok":true}');
};

function client(
  addresses: string[],
  balancer: 'round-robin' | 'p2c-ewma' = 'round-robin',
  halfOpenAfterMs = 5_000,
) {
  const source = new StaticInstances();
  source.set('catalog', addresses);
  const metrics = createMetrics('test');
  const c = new ServiceClient({
    target: 'catalog',
    source,
    dispatcher,
    metrics,
    log: pino({ level: 'silent' }),
    balancer,
    halfOpenAfterMs,
  });
  return { c, metrics, source };
}

async function metric(metrics: ReturnType<typeof createMetrics>, pattern: RegExp): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('round robin spreads calls evenly over the instances', async () => {
  const a = await serve(ok);
  const b = await serve(ok);
  const { c } = client([a.address, b.address]);
  for (let i = 0; i < 20; i++) assert.deepEqual(await c.json({ path: '/x' }), { ok: true });
  assert.equal(a.hits(), 10);
  assert.equal(b.hits(), 10);
});

test('a refused connection is retried elsewhere and ejects the instance at once', async () => {
  const live = await serve(ok);
  const dead = await closedPort();
  const { c, metrics } = client([dead, live.address]);
  for (let i = 0; i < 10; i++) assert.deepEqual(await c.json({ path: '/x' }), { ok: true });
  assert.equal(live.hits(), 10);
  assert.equal(await metric(metrics, /^bazaar_client_ejections_total\{.*reason="connection-refused"/), 1);
  const view = c.endpoints().find((e) => e.address === dead);
  assert.equal(view?.ejected, true);
});

test('a stopped instance costs one short attempt, then the call goes elsewhere', async () => {
  const hung = await serve(() => undefined); // accepts, never answers: like kill -STOP
  const live = await serve(ok);
  const { c } = client([hung.address, live.address]);
  const started = Date.now();
  const res = await c.json({ path: '/x', maxReadAttemptMs: 200, deadline: Deadline.after(2_000) });
  const took = Date.now() - started;
  assert.deepEqual(res, { ok: true });
  assert.ok(took >= 190 && took < 900, `took ${took} ms`);
});

test('a POST without an idempotency key is never retried; with one it is', async () => {
  let failFirst = true;
  const flaky: Handler = (_req, res) => {
    if (failFirst) {
      failFirst = false;
      res.statusCode = 503;
      res.end();
      return;
    }
    ok(_req, res);
  };
  const a = await serve(flaky);
  const { c } = client([a.address]);
  const unkeyed = await c.request({ method: 'POST', path: '/orders', body: { n: 1 } });
  await unkeyed.body.dump();
  assert.equal(unkeyed.status, 503);
  assert.equal(a.hits(), 1);

  failFirst = true;
  const keyed = await c.request({ method: 'POST', path: '/orders', body: { n: 1 }, idempotencyKey: 'k-1' });
  await keyed.body.dump();
  assert.equal(keyed.status, 200);
  assert.equal(a.hits(), 3);

  failFirst = true;
  const lookup = await c.request({ method: 'POST', path: '/lookup', body: { ids: [] }, readOnly: true });
  await lookup.body.dump();
  assert.equal(lookup.status, 200, 'a read-only POST is retried without a key');
  assert.equal(a.hits(), 5);
});

test('when every instance fails, circuits open and calls fail fast with 503 and Retry-After', async () => {
  const failing: Handler = (_req, res) => {
    res.statusCode = 500;
    res.end();
  };
  const a = await serve(failing);
  const b = await serve(failing);
  const { c, metrics } = client([a.address, b.address]);
  let unavailable: ServiceUnavailableError | undefined;
  for (let i = 0; i < 60 && !unavailable; i++) {
    try {
      const res = await c.request({ path: '/x' });
      await res.body.dump();
    } catch (err) {
      if (err instanceof ServiceUnavailableError) unavailable = err;
      else throw err;
    }
  }
  assert.ok(unavailable, 'the client stopped calling failing instances');
  assert.equal(unavailable.status, 503);
  assert.ok(Number(unavailable.headers['retry-after']) >= 1);
  const hitsBefore = a.hits() + b.hits();
  const started = Date.now();
  await assert.rejects(c.request({ path: '/x' }), ServiceUnavailableError);
  assert.ok(Date.now() - started < 50, 'answered at once');
  assert.equal(a.hits() + b.hits(), hitsBefore, 'no instance was called while circuits are open');
  assert.ok(c.endpoints().every((e) => e.circuit === 'open' || e.ejected));
  assert.ok((await metric(metrics, /^bazaar_client_circuit_state\{.*\} 1$/)) === 1);
});

test('a late instance makes the call fail at its deadline with DEADLINE_EXCEEDED', async () => {
  const slow = await serve((req, res) => setTimeout(() => ok(req, res), 400));
  const { c } = client([slow.address]);
  const started = Date.now();
  await assert.rejects(c.request({ path: '/x', deadline: Deadline.after(150) }), DeadlineExceededError);
  const took = Date.now() - started;
  assert.ok(took >= 140 && took < 400, `took ${took} ms`);
});

test('request id, trace, remaining deadline and the user token travel with the call', async () => {
  let seen: IncomingMessage['headers'] = {};
  const echo = await serve((req, res) => {
    seen = req.headers;
    ok(req, res);
  });
  const { c } = client([echo.address]);
  const trace = continueTrace('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  await runWithContext(
    { requestId: 'req-42', trace, deadline: Deadline.after(3_000), authorization: 'Bearer user-token' },
    () => c.json({ path: '/x' }),
  );
  assert.equal(seen['x-request-id'], 'req-42');
  assert.match(String(seen.traceparent), /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  assert.notEqual(String(seen.traceparent).split('-')[2], 'b7ad6b7169203331', 'a new span for the hop');
  const remaining = Number(seen['bazaar-deadline-ms']);
  assert.ok(remaining > 0 && remaining <= 1_000, `deadline header ${remaining}`);
  assert.equal(seen.authorization, 'Bearer user-token');
});

test('an error answer becomes a typed error carrying the upstream problem', async () => {
  const notFound = await serve((_req, res) => {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/problem+json');
    res.end(
      JSON.stringify({
        type: 'x',
        title: 'Product not found',
        status: 404,
        detail: 'No product 9.',
        code: 'PRODUCT_NOT_FOUND',
      }),
    );
  });
  const { c } = client([notFound.address]);
  await assert.rejects(c.json({ path: '/api/products/9' }), (err: unknown) => {
    assert.ok(err instanceof UpstreamError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'PRODUCT_NOT_FOUND');
    return true;
  });
});

test('with no instance registered the call is 503 at once', async () => {
  const { c } = client([]);
  await assert.rejects(
    c.request({ path: '/x' }),
    (err: unknown) => err instanceof ServiceUnavailableError && err.status === 503,
  );
});

test('p2c sends less traffic to a slow instance', async () => {
  const fast = await serve(ok);
  const slow = await serve((req, res) => setTimeout(() => ok(req, res), 30));
  const { c } = client([fast.address, slow.address], 'p2c-ewma');
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 25; i++) await c.json({ path: '/x' });
    }),
  );
  assert.ok(fast.hits() > slow.hits() * 2, `fast ${fast.hits()} slow ${slow.hits()}`);
});

test('open circuits half-open after their wait and close again once the instances heal', async () => {
  let failing = true;
  const handler: Handler = (req, res) => {
    if (failing) {
      res.statusCode = 500;
      res.end();
    } else ok(req, res);
  };
  const a = await serve(handler);
  const b = await serve(handler);
  const { c } = client([a.address, b.address], 'round-robin', 300);
  let open = false;
  for (let i = 0; i < 80 && !open; i++) {
    try {
      await (await c.request({ path: '/x' })).body.dump();
    } catch (err) {
      if (err instanceof ServiceUnavailableError) open = true;
    }
  }
  assert.ok(open, 'circuits opened');
  failing = false;
  await new Promise((r) => setTimeout(r, 350));
  assert.deepEqual(await c.json({ path: '/x' }), { ok: true });
  for (let i = 0; i < 10; i++) assert.deepEqual(await c.json({ path: '/x' }), { ok: true });
  assert.ok(c.endpoints().some((e) => e.circuit === 'closed'));
});

test('an answer whose body was dropped for a retry is never handed back: each result has its body', async () => {
  const failing = await serve((_req, res) => {
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain');
    res.end('boom');
  });
  const { c } = client([failing.address]);
  let results = 0;
  let unavailable = 0;
  for (let i = 0; i < 40; i++) {
    try {
      const res = await c.request({ path: '/x' });
      assert.equal(res.status, 500);
      assert.equal(await res.body.text(), 'boom', `call ${i} got a body`);
      results++;
    } catch (err) {
      assert.ok(err instanceof ServiceUnavailableError, String(err));
      unavailable++;
    }
  }
  assert.ok(results > 0 && unavailable > 0, `results ${results}, unavailable ${unavailable}`);
});
