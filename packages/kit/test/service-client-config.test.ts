/**
 * The client's thresholds as the config center changes them: attempts, breaker thresholds, the
 * availability view a caller fails fast on, and deliberate 503s that are answers, not failures.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { ResilienceConfig } from '@bazaar/contracts';
import pino from 'pino';
import { Agent } from 'undici';
import { ServiceUnavailableError } from '../src/client/errors.ts';
import { ServiceClient } from '../src/client/service-client.ts';
import { createMetrics } from '../src/metrics.ts';
import { StaticInstances } from '../src/testing/static-instances.ts';

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

async function serve(handler: Handler): Promise<{ address: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

const failing: Handler = (_req, res) => {
  res.statusCode = 503;
  res.setHeader('content-type', 'application/problem+json');
  res.end('{"code":"PAYMENT_PROVIDER_ERROR"}');
};

const RESILIENCE: ResilienceConfig = {
  breakerFailureRatio: 0.5,
  breakerMinimumCalls: 20,
  breakerWindowMs: 10_000,
  breakerHalfOpenAfterMs: 5_000,
  maxAttempts: 3,
  retryBudgetRatio: 0.2,
};

function client(addresses: string[], resilience?: Partial<ResilienceConfig>) {
  const source = new StaticInstances();
  source.set('payments', addresses);
  return new ServiceClient({
    target: 'payments',
    source,
    dispatcher,
    metrics: createMetrics('test'),
    log: pino({ level: 'silent' }),
    resilience,
  });
}

const keyed = (n: number) => ({ method: 'POST' as const, path: '/pay', body: {}, idempotencyKey: `k${n}` });

test('a keyed call is tried maxAttempts times, and configure changes that at once', async () => {
  const server = await serve(failing);
  const c = client([server.address]);
  await (await c.request(keyed(1))).body.dump();
  assert.equal(server.hits(), 3, 'the default: three attempts');
  c.configure({ ...RESILIENCE, maxAttempts: 1 });
  await (await c.request(keyed(2))).body.dump();
  assert.equal(server.hits(), 4, 'one attempt after the change');
});

test('with fewer minimum calls the circuit opens sooner, and availability says for how long', async () => {
  const server = await serve(failing);
  const c = client([server.address], { maxAttempts: 1 });
  for (let i = 0; i < 5; i++) await (await c.request(keyed(i))).body.dump();
  assert.equal(
    c.endpoints()[0]!.circuit,
    'closed',
    'five failures are fewer than the 20 calls a verdict needs',
  );
  assert.deepEqual(c.availability(), { instances: 1, available: 1, retryInMs: 0 });

  c.configure({ ...RESILIENCE, maxAttempts: 1, breakerMinimumCalls: 3, breakerHalfOpenAfterMs: 30_000 });
  for (let i = 0; i < 3; i++) await (await c.request(keyed(10 + i))).body.dump();
  assert.equal(c.endpoints()[0]!.circuit, 'open');
  const availability = c.availability();
  assert.equal(availability.available, 0);
  assert.ok(
    availability.retryInMs !== null && availability.retryInMs > 25_000 && availability.retryInMs <= 30_000,
    `retry in ${availability.retryInMs} ms`,
  );
  const hits = server.hits();
  await assert.rejects(c.request(keyed(20)), (err) => {
    assert.ok(err instanceof ServiceUnavailableError);
    assert.ok(Number(err.headers['retry-after']) >= 25, `Retry-After ${err.headers['retry-after']}`);
    return true;
  });
  assert.equal(server.hits(), hits, 'an open circuit sends nothing');

  c.configure({ ...RESILIENCE, maxAttempts: 1, breakerMinimumCalls: 4, breakerHalfOpenAfterMs: 30_000 });
  assert.equal(c.endpoints()[0]!.circuit, 'closed', 'new thresholds start from a closed circuit');
});

test('a failure ratio of 1 opens only when every call in the window failed', async () => {
  let fail = true;
  const server = await serve((req, res) => (fail ? failing(req, res) : res.end('{}')));
  const c = client([server.address], { maxAttempts: 1, breakerMinimumCalls: 4, breakerFailureRatio: 1 });
  fail = false;
  await (await c.request(keyed(1))).body.dump();
  fail = true;
  for (let i = 0; i < 5; i++) await (await c.request(keyed(2 + i))).body.dump();
  assert.equal(c.endpoints()[0]!.circuit, 'closed', 'one success in the window keeps it closed');
  const only = client([server.address], { maxAttempts: 1, breakerMinimumCalls: 4, breakerFailureRatio: 1 });
  for (let i = 0; i < 4; i++) await (await only.request(keyed(10 + i))).body.dump();
  assert.equal(only.endpoints()[0]!.circuit, 'open');
});

test('a deliberate 503 is passed on at once: not retried, and not held against the instance', async () => {
  const server = await serve((_req, res) => {
    res.statusCode = 503;
    res.setHeader('retry-after', '7');
    res.setHeader('bazaar-degraded', 'dependency');
    res.end('{"code":"PAYMENTS_UNAVAILABLE"}');
  });
  const c = client([server.address], { breakerMinimumCalls: 2 });
  for (let i = 0; i < 4; i++) {
    const res = await c.request(keyed(i));
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.attempts, 1);
    await res.body.dump();
  }
  assert.equal(server.hits(), 4);
  assert.equal(c.endpoints()[0]!.circuit, 'closed');
  assert.equal(c.endpoints()[0]!.ejected, false);
});

test('without any instance nothing is available and there is no wait to tell', () => {
  assert.deepEqual(client([]).availability(), { instances: 0, available: 0, retryInMs: null });
});
