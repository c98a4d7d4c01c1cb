import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Jwks, Problem, TokenPair } from '@bazaar/contracts';
import type { ManualClock } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { CREDENTIALS, client, identityApp, identityDatabase } from './support/identity.ts';

let db: Awaited<ReturnType<typeof identityDatabase>>;
let app: FastifyInstance;
let clock: ManualClock;
let api: ReturnType<typeof client>;
let pair: TokenPair;
let userId: string;

before(async () => {
  db = await identityDatabase();
  ({ app, clock } = await identityApp(db.pool));
  api = client(app);
  userId = (await api.register('tokens@example.com')).json<{ id: string }>().id;
  pair = await api.login('tokens@example.com');
});
after(async () => {
  await app?.close();
  await db?.drop();
});

async function jwks(): Promise<Jwks> {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], 'public, max-age=60');
  return res.json<Jwks>();
}

/** The token with its payload changed and the signature kept. */
function tamper(token: string, change: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ...change };
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

describe('access tokens and the JWKS', () => {
  test('the JWKS lists the signing key and access tokens verify against it with the pinned claims', async () => {
    const { keys } = await jwks();
    const header = decodeProtectedHeader(pair.accessToken);
    assert.deepEqual(header, { alg: 'EdDSA', typ: 'at+jwt', kid: header.kid });
    const key = keys.find((k) => k.kid === header.kid);
    assert.ok(key, 'the signing key is published');
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(key.kty, 'OKP');
    assert.equal(key.crv, 'Ed25519');
    assert.ok(!('d' in key), 'no private part');

    const { payload } = await jwtVerify(pair.accessToken, createLocalJWKSet({ keys }), {
      algorithms: ['EdDSA'],
      issuer: 'bazaar-identity',
      audience: 'bazaar',
      typ: 'at+jwt',
      currentDate: new Date(clock.now()),
    });
    assert.equal(payload.sub, userId);
    assert.equal(payload.role, 'customer');
    assert.equal(payload.typ, 'access');
    assert.equal(payload.exp! - payload.iat!, 600);
    assert.equal(typeof payload.sid, 'string');
    assert.equal(typeof payload.jti, 'string');
  });

  test('/me refuses alg none, a tampered payload, an HS256 token keyed with the public key, and other token kinds', async () => {
    const claims = JSON.parse(Buffer.from(pair.accessToken.split('.')[1]!, 'base64url').toString());
    const { keys } = await jwks();
    const unsigned = new UnsecuredJWT(claims).encode();
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: keys[0]!.kid })
      .sign(new TextEncoder().encode(keys[0]!.x));
    const service = (
      await app.inject({
        method: 'POST',
        url: '/internal/service-tokens',
        headers: { authorization: `Bearer ${CREDENTIALS.catalog}` },
        payload: { audience: 'payments' },
      })
    ).json<{ token: string }>().token;
    const cases: Record<string, string> = {
      'alg none': unsigned,
      'tampered role': tamper(pair.accessToken, { role: 'admin' }),
      'tampered subject': tamper(pair.accessToken, { sub: '00000000-0000-4000-8000-000000000000' }),
      'HS256 with the public key': hs256,
      'a service token': service,
      'a refresh token': pair.refreshToken,
      garbage: 'a.b.c',
    };
    assert.equal((await api.me(pair.accessToken)).statusCode, 200, 'the genuine token works');
    for (const [name, token] of Object.entries(cases)) {
      const res = await api.me(token);
      assert.equal(res.statusCode, 401, name);
      assert.match(String(res.headers['www-authenticate']), /^Bearer .*error="invalid_token"/, name);
      assert.equal(res.json<Problem>().code, 'UNAUTHORIZED', name);
    }
  });
});

describe('service tokens', () => {
  const exchange = (audience: string, authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/internal/service-tokens',
      headers: authorization ? { authorization } : {},
      payload: { audience },
    });

  test('a service exchanges its credential for a 5-minute token naming it and the callee', async () => {
    const res = await exchange('payments', `Bearer ${CREDENTIALS.catalog}`);
    assert.equal(res.statusCode, 200, res.body);
    const answer = res.json<{ token: string; expiresIn: number }>();
    assert.equal(answer.expiresIn, 300);
    assert.equal(decodeProtectedHeader(answer.token).typ, 'st+jwt');
    const { payload } = await jwtVerify(answer.token, createLocalJWKSet(await jwks()), {
      algorithms: ['EdDSA'],
      issuer: 'bazaar-identity',
      audience: 'payments',
      typ: 'st+jwt',
      currentDate: new Date(clock.now()),
    });
    assert.equal(payload.svc, 'catalog');
    assert.equal(payload.sub, 'service:catalog');
    assert.equal(payload.typ, 'service');
    assert.equal(payload.exp! - payload.iat!, 300);
  });

  test('without a credential, or with a wrong one, the exchange is 401; an unknown audience is 400', async () => {
    const none = await exchange('payments');
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    const wrong = await exchange('payments', 'Bearer bzc_catalog_not-the-real-credential-000000');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json<Problem>().code, 'CREDENTIAL_INVALID');
    const user = await exchange('payments', `Bearer ${pair.accessToken}`);
    assert.equal(user.statusCode, 401, 'a user token is no credential');
    assert.equal((await exchange('nosuchservice', `Bearer ${CREDENTIALS.catalog}`)).statusCode, 400);
    assert.equal((await exchange('bazaar', `Bearer ${CREDENTIALS.catalog}`)).statusCode, 400);
  });

  test('/internal/revocations takes a credential or a service token for identity, and nothing else', async () => {
    const get = (headers: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/internal/revocations', headers });
    assert.equal((await get({})).statusCode, 401);
    assert.equal((await get({ authorization: `Bearer ${pair.accessToken}` })).statusCode, 401);
    const byCredential = await get({ authorization: `Bearer ${CREDENTIALS.payments}` });
    assert.equal(byCredential.statusCode, 200);
    assert.deepEqual(Object.keys(byCredential.json()).sort(), ['generatedAt', 'sessions', 'subjects']);

    const forIdentity = (await exchange('identity', `Bearer ${CREDENTIALS.catalog}`)).json<{
      token: string;
    }>().token;
    assert.equal(
      (await get({ 'bazaar-service-token': forIdentity })).statusCode,
      200,
      'a token for identity is taken',
    );
    const forPayments = (await exchange('payments', `Bearer ${CREDENTIALS.catalog}`)).json<{
      token: string;
    }>().token;
    assert.equal(
      (await get({ 'bazaar-service-token': forPayments })).statusCode,
      401,
      'a token for payments is refused',
    );
  });
});

describe('configured token lifetimes', () => {
  test('BAZAAR_ACCESS_TOKEN_TTL_SECONDS shortens access tokens and caps service tokens; the JWKS max-age follows the refresh', async () => {
    const short = await identityDatabase();
    const { app: shortApp } = await identityApp(short.pool, {
      env: { BAZAAR_ACCESS_TOKEN_TTL_SECONDS: '60', BAZAAR_JWKS_REFRESH_MS: '10000' },
    });
    try {
      const api = client(shortApp);
      await api.register('short@example.com');
      const login = await api.login('short@example.com');
      assert.equal(login.expiresIn, 60);
      const claims = JSON.parse(Buffer.from(login.accessToken.split('.')[1]!, 'base64url').toString());
      assert.equal(claims.exp - claims.iat, 60);
      const refreshed = (await api.refresh(login.refreshToken)).json<TokenPair>();
      assert.equal(refreshed.expiresIn, 60);

      const res = await shortApp.inject({
        method: 'POST',
        url: '/internal/service-tokens',
        headers: { authorization: `Bearer ${CREDENTIALS.catalog}` },
        payload: { audience: 'payments' },
      });
      const answer = res.json<{ token: string; expiresIn: number }>();
      assert.equal(answer.expiresIn, 60, 'a service token never outlives an access token');
      const service = JSON.parse(Buffer.from(answer.token.split('.')[1]!, 'base64url').toString());
      assert.equal(service.exp - service.iat, 60);

      const keys = await shortApp.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(keys.headers['cache-control'], 'public, max-age=10');
    } finally {
      await shortApp.close();
      await short.drop();
    }
  });

  test('a rotation period not longer than the publish lead of the configured refresh stops the start', async () => {
    const other = await identityDatabase();
    try {
      await assert.rejects(
        identityApp(other.pool, {
          env: { BAZAAR_JWKS_REFRESH_MS: '60000', BAZAAR_KEY_ROTATION_HOURS: '0.02' },
        }),
        /publish lead/,
      );
      await assert.rejects(
        identityApp(other.pool, { env: { BAZAAR_ACCESS_TOKEN_TTL_SECONDS: '29' } }),
        /BAZAAR_ACCESS_TOKEN_TTL_SECONDS/,
      );
    } finally {
      await other.drop();
    }
  });
});
