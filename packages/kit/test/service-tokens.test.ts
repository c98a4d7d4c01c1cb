import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { Agent } from 'undici';
import { createIdentityApi } from '../src/auth/identity-api.ts';
import { ServiceTokens } from '../src/auth/service-tokens.ts';
import { createMetrics, ManualClock, ServiceClient } from '../src/index.ts';
import { newKey, startFakeIdentity } from '../src/testing/fake-identity.ts';
import { StaticInstances } from '../src/testing/index.ts';

/** An exchange that counts calls and answers `{token: 't<n>-<audience>', expiresIn}`, or fails. */
function fakeExchange(expiresIn = 300) {
  const calls: string[] = [];
  let failing = false;
  let release: (() => void) | undefined;
  let hold = false;
  return {
    calls,
    fail(on: boolean) {
      failing = on;
    },
    holdNext() {
      hold = true;
    },
    release() {
      release?.();
    },
    exchange: async (audience: string) => {
      calls.push(audience);
      if (hold) {
        hold = false;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
      if (failing) throw new Error('identity is down');
      return { token: `t${calls.length}-${audience}`, expiresIn };
    },
  };
}

describe('service tokens on the calling side', () => {
  test('the first call goes without a token; the exchange then keeps one ready per audience', async () => {
    const clock = new ManualClock();
    const fake = fakeExchange();
    const tokens = new ServiceTokens({ exchange: fake.exchange, clock, timers: false });
    assert.equal(tokens.current('catalog'), undefined);
    assert.equal(await tokens.ready('catalog'), 't1-catalog');
    assert.equal(tokens.current('catalog'), 't1-catalog');
    assert.equal(await tokens.ready('payments'), 't2-payments');
    assert.deepEqual(fake.calls, ['catalog', 'payments']);
  });

  test('concurrent callers share one exchange (single flight)', async () => {
    const clock = new ManualClock();
    const fake = fakeExchange();
    const tokens = new ServiceTokens({ exchange: fake.exchange, clock, timers: false });
    fake.holdNext();
    for (let i = 0; i < 50; i++) tokens.current('catalog');
    const waiting = tokens.ready('catalog');
    fake.release();
    assert.equal(await waiting, 't1-catalog');
    assert.deepEqual(fake.calls, ['catalog']);
  });

  test('a token is renewed at 80 % of its life and the old one is used until the new one arrives', async () => {
    const clock = new ManualClock();
    const fake = fakeExchange(300);
    const tokens = new ServiceTokens({ exchange: fake.exchange, clock, timers: false });
    await tokens.ready('catalog');
    clock.advance(239_000);
    assert.equal(tokens.current('catalog'), 't1-catalog');
    assert.equal(fake.calls.length, 1, 'no renewal before 80 %');
    clock.advance(1_000);
    fake.holdNext();
    assert.equal(tokens.current('catalog'), 't1-catalog', 'the old token while the renewal is in flight');
    fake.release();
    assert.equal(await tokens.ready('catalog'), 't2-catalog');
    assert.equal(fake.calls.length, 2);
  });

  test('an expired token is never handed out; failures back off instead of hammering identity', async () => {
    const clock = new ManualClock();
    const fake = fakeExchange(300);
    const tokens = new ServiceTokens({ exchange: fake.exchange, clock, timers: false, minRetryMs: 1_000 });
    await tokens.ready('catalog');
    fake.fail(true);
    clock.advance(299_000);
    await tokens.ready('catalog');
    assert.equal(tokens.current('catalog'), undefined, 'within 2 s of expiry the token is not sent');
    const attempts = fake.calls.length;
    for (let i = 0; i < 100; i++) tokens.current('catalog');
    assert.equal(fake.calls.length, attempts, 'no new attempt during the backoff');
    clock.advance(1_000);
    fake.fail(false);
    assert.equal(await tokens.ready('catalog'), `t${attempts + 1}-catalog`);
  });

  test('every ServiceClient call carries the current token in Bazaar-Service-Token', async () => {
    const seen: (string | undefined)[] = [];
    const upstream = createServer((req, res) => {
      seen.push(req.headers['bazaar-service-token'] as string | undefined);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const dispatcher = new Agent();
    after(async () => {
      upstream.close();
      await dispatcher.close();
    });
    const source = new StaticInstances();
    source.set('catalog', [`127.0.0.1:${(upstream.address() as AddressInfo).port}`]);
    const fake = fakeExchange();
    const tokens = new ServiceTokens({ exchange: fake.exchange, clock: new ManualClock(), timers: false });
    const client = new ServiceClient({
      target: 'catalog',
      source,
      dispatcher,
      metrics: createMetrics('gateway'),
      log: pino({ level: 'silent' }),
      serviceToken: () => tokens.current('catalog'),
    });
    await client.json({ path: '/api/products' });
    await tokens.ready('catalog');
    await client.json({ path: '/api/products' });
    assert.deepEqual(seen, [undefined, 't1-catalog']);
  });

  test("the exchange sends this service's credential to identity and returns its token", async () => {
    const key = await newKey();
    const identity = await startFakeIdentity([key]);
    after(() => identity.close());
    identity.exchange = (audience, credential) =>
      credential === 'gateway-credential-0123456789'
        ? { status: 200, body: { token: `for-${audience}`, expiresIn: 300 } }
        : { status: 401, body: { code: 'CREDENTIAL_INVALID', detail: 'no' } };
    const clock = new ManualClock();
    const good = createIdentityApi({ url: identity.url, clock, credential: 'gateway-credential-0123456789' });
    assert.deepEqual(await good.exchange('catalog'), { token: 'for-catalog', expiresIn: 300 });
    const bad = createIdentityApi({ url: identity.url, clock, credential: 'wrong-credential-0123456789' });
    await assert.rejects(bad.exchange('catalog'), { upstreamStatus: 401 });
  });
});
