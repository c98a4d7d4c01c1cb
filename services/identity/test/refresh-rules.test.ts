import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TokenPair } from '@bazaar/contracts';
import {
  decideRefresh,
  REFRESH_GRACE_MS,
  type RefreshState,
  sessionExpiresAt,
} from '../src/domain/refresh.ts';
import {
  newRefreshToken,
  openSuccessor,
  refreshTokenHash,
  sealSuccessor,
} from '../src/tokens/refresh-token.ts';

const now = 1_900_000_000_000;
const live: RefreshState = {
  spentAt: null,
  hasSuccessor: false,
  sessionRevokedAt: null,
  sessionExpiresAt: sessionExpiresAt(now - 1000),
  userDisabled: false,
};

test('an unspent token of a live session rotates', () => {
  assert.deepEqual(decideRefresh(live, now), { kind: 'rotate' });
});

test('a spent token is replayed within the 10 s grace and is reuse after it', () => {
  const spent = { ...live, spentAt: now, hasSuccessor: true };
  assert.equal(REFRESH_GRACE_MS, 10_000);
  assert.deepEqual(decideRefresh(spent, now + 10_000), { kind: 'replay' });
  assert.deepEqual(decideRefresh(spent, now + 10_001), { kind: 'reuse' });
});

test('revoked, expired (14 days after login) or disabled refuses, even before reuse is looked at', () => {
  const spent = { ...live, spentAt: now - 60_000, hasSuccessor: true };
  assert.deepEqual(decideRefresh({ ...spent, sessionRevokedAt: now - 1 }, now), {
    kind: 'refuse',
    reason: 'revoked',
  });
  assert.equal(sessionExpiresAt(0), 14 * 24 * 3600_000);
  assert.deepEqual(decideRefresh({ ...live, sessionExpiresAt: now }, now), {
    kind: 'refuse',
    reason: 'expired',
  });
  assert.deepEqual(decideRefresh({ ...live, userDisabled: true }, now), {
    kind: 'refuse',
    reason: 'disabled',
  });
});

test('the successor pair opens only with the parent token; the stored hash is not that key', () => {
  const parent = newRefreshToken();
  const pair: TokenPair = {
    accessToken: 'a.b.c',
    refreshToken: newRefreshToken(),
    tokenType: 'Bearer',
    expiresIn: 600,
  };
  const sealed = sealSuccessor(parent, pair);
  assert.ok(!sealed.includes(pair.refreshToken.slice(4)));
  assert.deepEqual(openSuccessor(parent, sealed), pair);
  assert.throws(() => openSuccessor(newRefreshToken(), sealed));
  assert.throws(() => openSuccessor(refreshTokenHash(parent).toString('base64url'), sealed));
});
