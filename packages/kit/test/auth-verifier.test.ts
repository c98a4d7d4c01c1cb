import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createIdentityApi } from '../src/auth/identity-api.ts';
import { JwksCache } from '../src/auth/jwks-cache.ts';
import { LruCache } from '../src/auth/lru-cache.ts';
import { type RejectReason, TokenRejected } from '../src/auth/principal.ts';
import { RevocationList } from '../src/auth/revocation-list.ts';
import { TokenVerifier, type VerifyOutcome } from '../src/auth/token-verifier.ts';
import {
  accessClaims,
  type FakeIdentity,
  type FakeKey,
  newKey,
  serviceClaims,
  sign,
  startFakeIdentity,
} from '../src/testing/fake-identity.ts';
import { ManualClock } from '../src/time.ts';

let identity: FakeIdentity;
let keyA: FakeKey;
let keyB: FakeKey;

before(async () => {
  keyA = await newKey('key-a');
  keyB = await newKey('key-b');
  identity = await startFakeIdentity([keyA, keyB]);
});
after(() => identity.close());

let clock: ManualClock;
let revocations: RevocationList;
let keys: JwksCache;
let verifier: TokenVerifier;
let outcomes: VerifyOutcome[];
const jwksFetches = () => identity.hits.get('/.well-known/jwks.json') ?? 0;

beforeEach(() => {
  identity.keys = [keyA, keyB];
  identity.hits.clear();
  clock = new ManualClock(Date.now());
  revocations = new RevocationList();
  const api = createIdentityApi({ url: identity.url, clock });
  keys = new JwksCache({ fetch: api.jwks, clock });
  outcomes = [];
  verifier = new TokenVerifier({
    keys,
    service: 'catalog',
    clock,
    revocations,
    onVerify: ({ outcome }) => outcomes.push(outcome),
  });
});

const now = () => Math.floor(clock.now() / 1000);

async function refused(token: string, reason?: RejectReason, kind: 'access' | 'service' = 'access') {
  const verify = kind === 'access' ? verifier.accessToken(token) : verifier.serviceToken(token);
  await assert.rejects(verify, (err: unknown) => {
    assert.ok(err instanceof TokenRejected, `refused as a bad token, not ${String(err)}`);
    if (reason) assert.equal(err.reason, reason);
    return true;
  });
}

async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition(), what);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('access tokens', () => {
  test('a token signed by a published key is accepted, with its claims', async () => {
    const claims = accessClaims(now(), { role: 'merchant' });
    const verified = await verifier.accessToken(await sign(keyA, claims));
    assert.equal(verified.sub, claims.sub);
    assert.equal(verified.role, 'merchant');
    assert.equal(verified.sid, claims.sid);
    assert.equal(jwksFetches(), 1);
  });

  test('alg "none" is refused, with or without a signature part', async () => {
    const header = b64({ alg: 'none', typ: 'at+jwt', kid: 'key-a' });
    const payload = b64(accessClaims(now()));
    await refused(`${header}.${payload}.`, 'malformed');
    await refused(`${header}.${payload}.${randomBytes(64).toString('base64url')}`, 'algorithm');
  });

  test('HS256 signed with the public key as the HMAC secret is refused', async () => {
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: 'key-a' });
    const payload = b64(accessClaims(now()));
    for (const secret of [
      Buffer.from(keyA.publicJwk.x!, 'base64url'),
      Buffer.from(JSON.stringify(keyA.publicJwk)),
    ]) {
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      await refused(`${header}.${payload}.${signature}`, 'algorithm');
    }
  });

  test('a wrong issuer or audience is refused', async () => {
    await refused(await sign(keyA, accessClaims(now(), { iss: 'someone-else' })), 'issuer');
    await refused(await sign(keyA, accessClaims(now(), { aud: 'catalog' })), 'audience');
  });

  test('an expired token is refused, one within the 5 s clock tolerance is not', async () => {
    await refused(await sign(keyA, accessClaims(now() - 700, { exp: now() - 10 })), 'expired');
    await verifier.accessToken(await sign(keyA, accessClaims(now() - 600, { exp: now() - 3 })));
  });

  test('a token whose nbf is in the future is refused', async () => {
    await refused(await sign(keyA, accessClaims(now(), { nbf: now() + 60 })), 'not-yet-valid');
  });

  test('a tampered payload is refused', async () => {
    const token = await sign(keyA, accessClaims(now()));
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = b64({ ...claims, role: 'admin' });
    await refused(`${header}.${forged}.${signature}`, 'signature');
  });

  test('a service token used as a user token is refused, and the reverse', async () => {
    const service = await sign(keyA, serviceClaims(now(), 'gateway', 'catalog'), { typ: 'st+jwt' });
    await refused(service, 'type');
    // Even with the access header typ, the claims still say it is a service token.
    const relabelled = await sign(keyA, { ...serviceClaims(now(), 'gateway', 'bazaar') }, { typ: 'at+jwt' });
    await refused(relabelled);
    const user = await sign(keyA, accessClaims(now()));
    await verifier.accessToken(user);
    await refused(user, 'type', 'service');
  });

  test('opaque strings, refresh tokens and garbage are refused without asking identity', async () => {
    for (const token of [
      randomBytes(32).toString('base64url'),
      'rt_' + randomBytes(32).toString('base64url'),
      '',
      'a.b',
      'x'.repeat(5000),
      'not a token at all',
    ]) {
      await refused(token, 'malformed');
    }
    assert.equal(jwksFetches(), 0);
  });

  test('a role outside customer, merchant, admin is refused', async () => {
    await refused(await sign(keyA, accessClaims(now(), { role: 'root' })), 'claims');
  });
});

describe('the key set', () => {
  test('1000 tokens with made-up kids are all refused, fetching the JWKS at most once per 30 s cooldown', async () => {
    await verifier.accessToken(await sign(keyA, accessClaims(now())));
    assert.equal(jwksFetches(), 1);
    const forged = (n: number) =>
      Promise.all(Array.from({ length: n }, () => sign(keyA, accessClaims(now()), { kid: randomUUID() })));
    const first = await forged(1000);
    const results = await Promise.allSettled(first.map((t) => verifier.accessToken(t)));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof TokenRejected));
    assert.equal(jwksFetches(), 1, 'within the cooldown of the last fetch, no fetch at all');

    clock.advance(30_000);
    const second = await forged(1000);
    const again = await Promise.allSettled(second.map((t) => verifier.accessToken(t)));
    assert.ok(again.every((r) => r.status === 'rejected'));
    assert.equal(jwksFetches(), 2, 'one fetch once the cooldown is over, shared by every request');
  });

  test('a key published after the last fetch is found once the cooldown allows a fetch', async () => {
    await verifier.accessToken(await sign(keyA, accessClaims(now())));
    const keyC = await newKey('key-c');
    identity.keys = [keyA, keyB, keyC];
    const token = await sign(keyC, accessClaims(now()));
    await refused(token, 'unknown-key');
    clock.advance(30_000);
    await verifier.accessToken(token);
  });

  test('the set is fetched again once it is 60 s old', async () => {
    await verifier.accessToken(await sign(keyA, accessClaims(now())));
    clock.advance(59_000);
    await verifier.accessToken(await sign(keyA, accessClaims(now())));
    assert.equal(jwksFetches(), 1);
    clock.advance(1_000);
    await verifier.accessToken(await sign(keyA, accessClaims(now())));
    await eventually(() => jwksFetches() === 2, 'a stale set is fetched again in the background');
  });

  test('when a key leaves the JWKS, tokens it signed are refused even though they were cached', async () => {
    const tokenA = await sign(keyA, accessClaims(now()));
    const tokenB = await sign(keyB, accessClaims(now()));
    await verifier.accessToken(tokenA);
    await verifier.accessToken(tokenB);
    identity.keys = [keyB];
    clock.advance(60_000);
    await verifier.accessToken(tokenB); // starts the refresh of a stale set
    await eventually(() => !keys.has('key-a'), 'the refresh drops key-a');
    await refused(tokenA, 'unknown-key');
    await verifier.accessToken(tokenB);
  });

  test('a cached token whose key has left and which has also expired is refused for its key', async () => {
    const token = await sign(keyA, accessClaims(now(), { exp: now() + 30 }));
    await verifier.accessToken(token);
    identity.keys = [keyB];
    clock.advance(60_000);
    await verifier.accessToken(await sign(keyB, accessClaims(now()))); // starts the refresh
    await eventually(() => !keys.has('key-a'), 'the refresh drops key-a');
    // Both reasons hold; the key's is the one that says why it can never be accepted again.
    await refused(token, 'unknown-key');
  });

  test('only Ed25519 signing keys are taken from the JWKS', async () => {
    const odd = [
      { kty: 'RSA', kid: 'rsa', n: 'AQAB', e: 'AQAB' },
      { ...keyA.publicJwk, kid: 'enc', use: 'enc' },
      { ...keyA.publicJwk, kid: 'es', alg: 'ES256' },
      { kty: 'oct', kid: 'secret', k: 'c2VjcmV0' },
    ];
    identity.keys = [keyB];
    const plain = createIdentityApi({ url: identity.url, clock });
    const cache = new JwksCache({
      clock,
      fetch: async () => ({ keys: [...((await plain.jwks()) as { keys: unknown[] }).keys, ...odd] }),
    });
    await cache.refresh();
    assert.deepEqual(cache.kids(), ['key-b']);
  });

  test('when identity cannot be reached and no key set was ever loaded, tokens are not judged', async () => {
    const down = new JwksCache({
      clock,
      fetch: async () => {
        throw new Error('ECONNREFUSED');
      },
    });
    const v = new TokenVerifier({ keys: down, service: 'catalog', clock });
    const token = await sign(keyA, accessClaims(now()));
    await assert.rejects(v.accessToken(token), { name: 'KeysUnavailable' });
  });

  test('a failed refresh keeps the last key set', async () => {
    let fail = false;
    const api = createIdentityApi({ url: identity.url, clock });
    const cache = new JwksCache({
      clock,
      fetch: async () => {
        if (fail) throw new Error('identity is down');
        return api.jwks();
      },
    });
    const v = new TokenVerifier({ keys: cache, service: 'catalog', clock });
    await v.accessToken(await sign(keyA, accessClaims(now())));
    fail = true;
    clock.advance(120_000);
    await assert.rejects(cache.refresh());
    await v.accessToken(await sign(keyA, accessClaims(now())));
  });

  test('a started cache whose first fetches fail keeps retrying on its own, with a growing delay, until it has keys', async () => {
    const api = createIdentityApi({ url: identity.url, clock });
    const attempts: number[] = [];
    const cache = new JwksCache({
      clock,
      retryMs: 20,
      refreshMs: 60_000,
      fetch: async () => {
        attempts.push(performance.now());
        if (attempts.length <= 3) throw new Error('no instance registered');
        return api.jwks();
      },
    });
    cache.start();
    try {
      await eventually(() => cache.loaded, 'the keys were loaded with no request asking for them');
      assert.equal(attempts.length, 4);
      const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
      assert.ok(gaps[2]! >= 70, `the delay doubles (20, 40, 80 ms): ${gaps.map(Math.round)}`);
      // Loaded: no more retries, only the periodic refresh.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(attempts.length, 4);
    } finally {
      cache.stop();
    }
  });

  test('loadIfMissing fetches a missing set at once, and does nothing once one is loaded', async () => {
    let fetches = 0;
    const api = createIdentityApi({ url: identity.url, clock });
    const cache = new JwksCache({
      clock,
      fetch: async () => {
        fetches++;
        return api.jwks();
      },
    });
    cache.loadIfMissing();
    await eventually(() => cache.loaded, 'loaded');
    cache.loadIfMissing();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fetches, 1);
  });
});

describe('verified tokens are cached', () => {
  test('a hot token is verified once and then answered from the cache', async () => {
    const token = await sign(keyA, accessClaims(now()));
    for (let i = 0; i < 100; i++) await verifier.accessToken(token);
    assert.deepEqual(
      {
        verified: outcomes.filter((o) => o === 'verified').length,
        cached: outcomes.filter((o) => o === 'cached').length,
      },
      { verified: 1, cached: 99 },
    );
  });

  test('a cached token is refused once it expires', async () => {
    const token = await sign(keyA, accessClaims(now(), { exp: now() + 60 }));
    await verifier.accessToken(token);
    clock.advance(64_000);
    await verifier.accessToken(token);
    clock.advance(2_000);
    await refused(token, 'expired');
  });

  test('a refused token is never cached', async () => {
    const token = await sign(keyA, accessClaims(now(), { nbf: now() + 60 }));
    await refused(token, 'not-yet-valid');
    await refused(token, 'not-yet-valid');
    assert.equal(outcomes.filter((o) => o === 'cached').length, 0);
  });

  test('the cache is bounded: the least recently used token goes first', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('c'), 3);
    assert.equal(lru.size, 2);
  });
});

describe('revocations', () => {
  test('a token of a listed subject issued before its notBefore is refused, a later one accepted', async () => {
    const claims = accessClaims(now() - 100);
    const old = await sign(keyA, claims);
    await verifier.accessToken(old);
    revocations.update({
      subjects: [{ sub: claims.sub as string, notBefore: now() - 50 }],
      sessions: [],
      generatedAt: now(),
    });
    await refused(old, 'revoked');
    await verifier.accessToken(await sign(keyA, { ...accessClaims(now()), sub: claims.sub }));
  });

  test('a token of a listed session is refused; other sessions of the same user are not', async () => {
    const claims = accessClaims(now() - 10);
    revocations.update({
      subjects: [],
      sessions: [{ sid: claims.sid as string, notBefore: now() }],
      generatedAt: now(),
    });
    await refused(await sign(keyA, claims), 'revoked');
    await verifier.accessToken(await sign(keyA, { ...claims, sid: randomUUID(), jti: randomUUID() }));
  });

  test('an older list does not replace a newer one', () => {
    const list = new RevocationList();
    list.update({ subjects: [{ sub: 'u1', notBefore: 100 }], sessions: [], generatedAt: 50 });
    list.update({ subjects: [], sessions: [], generatedAt: 40 });
    assert.equal(list.isRevoked('u1', undefined, 99), true);
    assert.equal(list.isRevoked('u1', undefined, 100), false);
  });

  test('the kit reads the list from identity with its credential', async () => {
    identity.revocations = { subjects: [{ sub: 'u9', notBefore: 7 }], sessions: [], generatedAt: 8 };
    const api = createIdentityApi({ url: identity.url, clock, credential: 'c'.repeat(20) });
    assert.deepEqual(await api.revocations(), identity.revocations);
  });
});

describe('service tokens', () => {
  test('a service token addressed to this service is accepted; one for another service is not', async () => {
    const mine = await sign(keyA, serviceClaims(now(), 'gateway', 'catalog'), { typ: 'st+jwt' });
    assert.equal((await verifier.serviceToken(mine)).svc, 'gateway');
    const theirs = await sign(keyA, serviceClaims(now(), 'gateway', 'payments'), { typ: 'st+jwt' });
    await refused(theirs, 'audience', 'service');
  });

  test('a service token whose sub does not name its svc is refused', async () => {
    const odd = await sign(keyA, serviceClaims(now(), 'gateway', 'catalog', { sub: 'service:admin' }), {
      typ: 'st+jwt',
    });
    await refused(odd, 'claims', 'service');
  });

  test('a user token is never a service token', async () => {
    await refused(
      await sign(keyA, accessClaims(now(), { aud: 'catalog' }), { typ: 'st+jwt' }),
      undefined,
      'service',
    );
  });
});
