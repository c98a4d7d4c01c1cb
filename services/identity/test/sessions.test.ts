import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Problem, TokenPair } from '@bazaar/contracts';
import type { ManualClock } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { client, identityApp, identityDatabase } from './support/identity.ts';

let db: Awaited<ReturnType<typeof identityDatabase>>;
let app: FastifyInstance;
let clock: ManualClock;
let api: ReturnType<typeof client>;
let n = 0;

before(async () => {
  db = await identityDatabase();
  ({ app, clock } = await identityApp(db.pool));
  api = client(app);
});
after(async () => {
  await app?.close();
  await db?.drop();
});

/** A new account, logged in once. */
async function session(): Promise<TokenPair> {
  const email = `user${++n}@example.com`;
  assert.equal((await api.register(email)).statusCode, 201);
  return api.login(email);
}

describe('refresh', () => {
  test('a refresh answers a new pair and spends the token; reuse after the grace ends the family', async () => {
    const first = await session();
    const res = await api.refresh(first.refreshToken);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const second = res.json<TokenPair>();
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal((await api.me(second.accessToken)).statusCode, 200);

    clock.advance(10_001);
    const reuse = await api.refresh(first.refreshToken);
    assert.equal(reuse.statusCode, 401);
    assert.equal(reuse.json<Problem>().code, 'INVALID_REFRESH_TOKEN');
    // The thief's replay ended the whole session: the legitimate latest tokens are dead too.
    assert.equal((await api.refresh(second.refreshToken)).statusCode, 401);
    assert.equal((await api.me(second.accessToken)).statusCode, 401);
    assert.equal((await api.me(first.accessToken)).statusCode, 401);
  });

  test('the same token presented again within the 10 s grace answers the same pair and ends nothing', async () => {
    const first = await session();
    const a = (await api.refresh(first.refreshToken)).json<TokenPair>();
    clock.advance(9_000);
    const again = await api.refresh(first.refreshToken);
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json<TokenPair>(), a);
    assert.equal((await api.refresh(a.refreshToken)).statusCode, 200, 'the family lives on');
  });

  test('two concurrent refreshes with one token both succeed with the same pair', async () => {
    const first = await session();
    const answers = await Promise.all(Array.from({ length: 4 }, () => api.refresh(first.refreshToken)));
    for (const res of answers) assert.equal(res.statusCode, 200, res.body);
    const pairs = answers.map((r) => r.json<TokenPair>());
    for (const pair of pairs) assert.deepEqual(pair, pairs[0]);
    assert.equal((await api.refresh(pairs[0]!.refreshToken)).statusCode, 200);
  });

  test('a made-up or malformed refresh token is 401', async () => {
    for (const token of ['bzr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'nonsense']) {
      const res = await api.refresh(token);
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<Problem>().code, 'INVALID_REFRESH_TOKEN');
    }
  });

  test('only the hash of a refresh token is stored, and no token in clear', async () => {
    const pair = await session();
    const refreshed = (await api.refresh(pair.refreshToken)).json<TokenPair>();
    const dump = JSON.stringify((await db.pool.query('SELECT * FROM refresh_tokens')).rows);
    for (const token of [pair.refreshToken, refreshed.refreshToken, refreshed.accessToken]) {
      assert.ok(!dump.includes(token.slice(4, 30)), 'no token text in the table');
    }
  });

  test('a session ends 14 days after its login, however often it was refreshed', async () => {
    let pair = await session();
    for (let day = 0; day < 13; day++) {
      clock.advance(24 * 3600_000);
      const res = await api.refresh(pair.refreshToken);
      assert.equal(res.statusCode, 200, `day ${day + 1}`);
      pair = res.json<TokenPair>();
    }
    clock.advance(24 * 3600_000);
    const expired = await api.refresh(pair.refreshToken);
    assert.equal(expired.statusCode, 401);
    assert.match(expired.json<Problem>().detail, /14-day/);
  });

  test('an access token is refused once it is 10 minutes old', async () => {
    const pair = await session();
    clock.advance(599_000);
    assert.equal((await api.me(pair.accessToken)).statusCode, 200);
    clock.advance(2_000);
    assert.equal((await api.me(pair.accessToken)).statusCode, 401);
  });
});

describe('logout', () => {
  test('logout ends that session only: its refresh and access tokens are refused', async () => {
    const email = `user${++n}@example.com`;
    await api.register(email);
    const one = await api.login(email);
    const two = await api.login(email);
    const res = await api.send('POST', '/api/auth/logout', { refreshToken: one.refreshToken });
    assert.equal(res.statusCode, 204);
    assert.equal((await api.refresh(one.refreshToken)).statusCode, 401);
    assert.equal((await api.me(one.accessToken)).statusCode, 401);
    assert.equal((await api.me(two.accessToken)).statusCode, 200);
    assert.equal((await api.refresh(two.refreshToken)).statusCode, 200);
  });

  test('logout-all ends every session of the caller, its own included', async () => {
    const email = `user${++n}@example.com`;
    await api.register(email);
    const one = await api.login(email);
    const two = await api.login(email);
    const anonymous = await api.send('POST', '/api/auth/logout-all');
    assert.equal(anonymous.statusCode, 401);
    assert.equal(
      (await api.send('POST', '/api/auth/logout-all', undefined, one.accessToken)).statusCode,
      204,
    );
    for (const pair of [one, two]) {
      assert.equal((await api.me(pair.accessToken)).statusCode, 401);
      assert.equal((await api.refresh(pair.refreshToken)).statusCode, 401);
    }
    await api.login(email);
  });
});
