import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  type Authenticator,
  assertOwnerOrAdmin,
  buildApp,
  currentUser,
  defineService,
  requireRole,
  requireService,
  requireUser,
} from '../src/index.ts';
import {
  accessClaims,
  type FakeIdentity,
  type FakeKey,
  newKey,
  serviceClaims,
  sign,
  startFakeIdentity,
} from '../src/testing/fake-identity.ts';

const CREDENTIAL = 'probe-credential-0123456789';

const probe = defineService({
  name: 'probe',
  auth: true,
  routes: (app) => {
    app.get('/api/whoami', async (request) => ({
      user: request.user ?? null,
      caller: request.caller ?? null,
      fromContext: currentUser() ?? null,
    }));
    app.get('/api/me', async (request) => requireUser(request));
    app.get('/api/admin/things', async (request) => requireRole(request, 'admin'));
    app.get('/api/things/:owner', async (request) => {
      const { owner } = request.params as { owner: string };
      assertOwnerOrAdmin(request, owner, 'PRODUCT_NOT_FOUND', 'No product here.');
      return { owner };
    });
    app.post('/internal/reserve', async (request) => requireService(request, 'orders'));
    app.get('/internal/by-credential', { config: { serviceCredential: true } }, async (request) => ({
      authorization: request.headers.authorization === `Bearer ${CREDENTIAL}`,
    }));
  },
});

let identity: FakeIdentity;
let key: FakeKey;
let app: FastifyInstance;
let auth: Authenticator | undefined;

before(async () => {
  key = await newKey();
  identity = await startFakeIdentity([key]);
  ({ app, auth } = await buildApp(probe, {
    env: { BAZAAR_IDENTITY_URL: identity.url, BAZAAR_SERVICE_CREDENTIAL: CREDENTIAL },
  }));
});
after(async () => {
  await app.close();
  await identity.close();
});
beforeEach(() => {
  identity.revocations = { subjects: [], sessions: [], generatedAt: 0 };
});

const now = () => Math.floor(Date.now() / 1000);
const userToken = (over: Record<string, unknown> = {}) => sign(key, accessClaims(now(), over));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal((res.json() as { code: string }).code, code);
}

describe('who is calling', () => {
  test('without a token the request is anonymous', async () => {
    const res = await app.inject({ url: '/api/whoami' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { user: null, caller: null, fromContext: null });
  });

  test("a valid access token makes the user known to the handler and to the request's context", async () => {
    const claims = accessClaims(now(), { role: 'merchant' });
    const res = await app.inject({ url: '/api/whoami', headers: bearer(await sign(key, claims)) });
    const expected = { id: claims.sub, role: 'merchant', sid: claims.sid };
    assert.deepEqual(res.json(), { user: expected, caller: null, fromContext: expected });
  });

  test('a bad token is a 401 problem with WWW-Authenticate: Bearer error="invalid_token", even on a public route', async () => {
    for (const authorization of [
      'Bearer not-a-jwt',
      `Bearer ${await userToken({ exp: now() - 60 })}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      'Bearer',
    ]) {
      const res = await app.inject({ url: '/api/whoami', headers: { authorization } });
      assertProblem(res, 401, 'UNAUTHORIZED');
      assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
    }
  });

  test('a revoked user is refused once the revocation list is read', async () => {
    const claims = accessClaims(now() - 5);
    const token = await sign(key, claims);
    assert.equal((await app.inject({ url: '/api/me', headers: bearer(token) })).statusCode, 200);
    identity.revocations = {
      subjects: [{ sub: claims.sub as string, notBefore: now() }],
      sessions: [],
      generatedAt: now(),
    };
    await auth!.pollRevocations();
    assertProblem(await app.inject({ url: '/api/me', headers: bearer(token) }), 401, 'UNAUTHORIZED');
  });

  test('health and metrics are never judged by their Authorization header', async () => {
    const res = await app.inject({ url: '/health/live', headers: { authorization: 'Bearer junk' } });
    assert.equal(res.statusCode, 200);
  });

  test('the JWKS fetches are counted in bazaar_auth_jwks_fetches_total', async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    assert.match(text, /bazaar_auth_jwks_fetches_total\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    assert.match(text, /bazaar_auth_verifications_total\{[^}]*outcome="rejected"/);
  });
});

describe('guards', () => {
  test('requireUser: 401 with WWW-Authenticate: Bearer for an anonymous request', async () => {
    const res = await app.inject({ url: '/api/me' });
    assertProblem(res, 401, 'UNAUTHORIZED');
    assert.equal(res.headers['www-authenticate'], 'Bearer');
  });

  test('requireRole: a customer on an admin route is 403, an admin passes', async () => {
    assertProblem(
      await app.inject({ url: '/api/admin/things', headers: bearer(await userToken()) }),
      403,
      'FORBIDDEN',
    );
    const ok = await app.inject({
      url: '/api/admin/things',
      headers: bearer(await userToken({ role: 'admin' })),
    });
    assert.equal(ok.statusCode, 200);
  });

  test("another user's object is a 404, as if it did not exist; the owner and admins see it", async () => {
    const owner = accessClaims(now());
    const other = await userToken();
    const url = `/api/things/${owner.sub}`;
    assertProblem(await app.inject({ url, headers: bearer(other) }), 404, 'PRODUCT_NOT_FOUND');
    assertProblem(await app.inject({ url }), 404, 'PRODUCT_NOT_FOUND');
    assert.equal((await app.inject({ url, headers: bearer(await sign(key, owner)) })).statusCode, 200);
    assert.equal(
      (await app.inject({ url, headers: bearer(await userToken({ role: 'admin' })) })).statusCode,
      200,
    );
  });
});

describe('internal routes', () => {
  const serviceToken = (svc: string, aud: string) =>
    sign(key, serviceClaims(now(), svc, aud), { typ: 'st+jwt' });

  test('accept a service token addressed to this service from an allowed caller', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/internal/reserve',
      headers: { 'bazaar-service-token': await serviceToken('orders', 'probe') },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { service: 'orders' });
  });

  test('refuse a user token alone (401), another caller (403), and a token for another service (401)', async () => {
    assertProblem(
      await app.inject({
        method: 'POST',
        url: '/internal/reserve',
        headers: bearer(await userToken({ role: 'admin' })),
      }),
      401,
      'UNAUTHORIZED',
    );
    assertProblem(
      await app.inject({
        method: 'POST',
        url: '/internal/reserve',
        headers: { 'bazaar-service-token': await serviceToken('cart', 'probe') },
      }),
      403,
      'FORBIDDEN',
    );
    const res = await app.inject({
      method: 'POST',
      url: '/internal/reserve',
      headers: { 'bazaar-service-token': await serviceToken('orders', 'payments') },
    });
    assertProblem(res, 401, 'UNAUTHORIZED');
    assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
  });

  test('on-behalf-of: the user token and the service token are both verified and both known', async () => {
    const claims = accessClaims(now());
    const res = await app.inject({
      url: '/api/whoami',
      headers: {
        ...bearer(await sign(key, claims)),
        'bazaar-service-token': await serviceToken('cart', 'probe'),
      },
    });
    assert.deepEqual(res.json(), {
      user: { id: claims.sub, role: 'customer', sid: claims.sid },
      caller: { service: 'cart' },
      fromContext: { id: claims.sub, role: 'customer', sid: claims.sid },
    });
  });

  test('a route authenticated by service credential is not judged as a user token', async () => {
    const res = await app.inject({ url: '/internal/by-credential', headers: bearer(CREDENTIAL) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { authorization: true });
  });
});

describe('when identity cannot be reached', () => {
  test('a token is answered 503 with Retry-After, and anonymous requests go on', async () => {
    const down = await newKey();
    const gone = await startFakeIdentity([down]);
    await gone.close();
    const { app: lonely } = await buildApp(probe, { env: { BAZAAR_IDENTITY_URL: gone.url } });
    try {
      const res = await lonely.inject({
        url: '/api/whoami',
        headers: bearer(await sign(down, accessClaims(now()))),
      });
      assertProblem(res, 503, 'SERVICE_UNAVAILABLE');
      assert.equal(res.headers['retry-after'], '1');
      assert.equal((await lonely.inject({ url: '/api/whoami' })).statusCode, 200);
    } finally {
      await lonely.close();
    }
  });
});

describe('auth is opt-in', () => {
  test('a service without auth ignores tokens: guards answer 401', async () => {
    const plain = defineService({
      name: 'plain',
      routes: (a) => {
        a.get('/api/me', async (request) => requireUser(request));
      },
    });
    const { app: built, auth: none } = await buildApp(plain, { env: {} });
    try {
      assert.equal(none, undefined);
      const res = await built.inject({ url: '/api/me', headers: bearer(await userToken()) });
      assertProblem(res, 401, 'UNAUTHORIZED');
    } finally {
      await built.close();
    }
  });
});
