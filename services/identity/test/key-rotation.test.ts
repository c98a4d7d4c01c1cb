import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Jwks, TokenPair } from '@bazaar/contracts';
import { ManualClock } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { keyPolicy } from '../src/domain/keys.ts';
import { KeyRing } from '../src/tokens/key-ring.ts';
import { client, identityApp, identityDatabase } from './support/identity.ts';

const HOUR = 3_600_000;
let db: Awaited<ReturnType<typeof identityDatabase>>;
const apps: FastifyInstance[] = [];
const clock = new ManualClock(Date.parse('2030-06-01T00:00:00Z'));

before(async () => {
  db = await identityDatabase();
});
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await db?.drop();
});

async function replica() {
  const { app } = await identityApp(db.pool, { clock });
  apps.push(app);
  const api = client(app);
  return {
    api,
    async kids(): Promise<string[]> {
      const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      return res
        .json<Jwks>()
        .keys.map((k) => k.kid)
        .sort();
    },
  };
}
const kidOf = (pair: TokenPair) => decodeProtectedHeader(pair.accessToken).kid!;

test('keys persist across restarts, are shared by replicas, rotate on schedule and leave after their tokens', async () => {
  const a = await replica();
  await a.api.register('rotate@example.com');
  const first = await a.api.login('rotate@example.com');
  const k1 = kidOf(first);
  assert.deepEqual(await a.kids(), [k1]);

  // A restarted (or second) replica finds the same key in the database and signs with it.
  const b = await replica();
  assert.deepEqual(await b.kids(), [k1]);
  assert.equal(kidOf(await b.api.login('rotate@example.com')), k1);
  assert.equal((await b.api.me(first.accessToken)).statusCode, 200);

  // Near the end of the rotation period the successor is published, but the old key still signs.
  clock.advance(24 * HOUR - 60_000);
  const published = await a.kids();
  assert.equal(published.length, 2, 'the successor is published');
  const k2 = published.find((k) => k !== k1)!;
  assert.deepEqual(await b.kids(), published, 'both replicas publish the same keys');
  const late = await b.api.login('rotate@example.com');
  assert.equal(kidOf(late), k1, 'the old key signs until its successor has been published long enough');

  clock.advance(119_000);
  assert.equal(kidOf(await a.api.login('rotate@example.com')), k1, 'not before 2 minutes have passed');
  clock.advance(31_001);
  const fresh = await a.api.login('rotate@example.com');
  assert.equal(kidOf(fresh), k2, 'then the successor signs');
  assert.equal(kidOf(await b.api.login('rotate@example.com')), k2, 'on every replica');
  assert.equal((await a.api.me(late.accessToken)).statusCode, 200, 'tokens of the retired key still verify');

  // Ten minutes (and a margin) after retirement the old key leaves the JWKS and the database.
  clock.advance(11 * 60_000);
  assert.deepEqual(await a.kids(), [k2]);
  assert.deepEqual(await b.kids(), [k2]);
  const { rows } = await db.pool.query<{ kid: string }>('SELECT kid FROM signing_keys');
  assert.deepEqual(
    rows.map((r) => r.kid),
    [k2],
  );
});

test('private keys are stored sealed, and a different secret cannot use them', async () => {
  const { rows } = await db.pool.query<{ private_jwk_sealed: string }>(
    'SELECT private_jwk_sealed FROM signing_keys',
  );
  assert.ok(rows.length > 0);
  for (const row of rows) assert.match(row.private_jwk_sealed, /^v1\.[A-Za-z0-9_-]+$/);
  const stranger = new KeyRing({
    db: db.pool,
    secret: 'another-secret-of-at-least-32-characters',
    policy: keyPolicy(24),
    clock,
  });
  await assert.rejects(stranger.signingKey(), /cannot be decrypted/);
});
