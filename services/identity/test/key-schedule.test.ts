import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '@bazaar/kit';
import { type KeyPolicy, type KeyTimes, keyPolicy, planKeys, tokenLifetimes } from '../src/domain/keys.ts';

const HOUR = 3_600_000;
const standard = keyPolicy(24);
const policy = standard;

/** Applies plans as the key ring would, every `stepMs`, keeping a log of when each key was published and signed. */
function simulate(clock: ManualClock, untilMs: number, stepMs: number, policy: KeyPolicy = standard) {
  const keys: KeyTimes[] = [];
  const published = new Map<string, { first: number; last: number }>();
  const signed = new Map<string, { first: number; last: number }>();
  const note = (map: typeof published, kid: string, at: number) => {
    const seen = map.get(kid);
    if (seen) seen.last = at;
    else map.set(kid, { first: at, last: at });
  };
  let made = 0;
  const end = clock.now() + untilMs;
  while (clock.now() <= end) {
    const now = clock.now();
    const plan = planKeys(keys, now, policy);
    if (plan.create)
      keys.push({ kid: `k${++made}`, createdAt: now, activatesAt: plan.create.activatesAt, retiresAt: null });
    for (const r of plan.retire) keys.find((k) => k.kid === r.kid)!.retiresAt = r.retiresAt;
    for (const kid of plan.remove)
      keys.splice(
        keys.findIndex((k) => k.kid === kid),
        1,
      );
    const after = planKeys(keys, now, policy);
    assert.ok(after.signing, `a key signs at +${(now - end + untilMs) / 1000} s`);
    note(signed, after.signing, now);
    for (const kid of after.published) note(published, kid, now);
    clock.advance(stepMs);
  }
  return { keys, published, signed };
}

describe('key schedule', () => {
  test('the first key signs at once; nothing changes until its rotation is near', () => {
    const clock = new ManualClock();
    const first = planKeys([], clock.now(), policy);
    assert.deepEqual(first.create, { activatesAt: clock.now() });
    const keys: KeyTimes[] = [
      { kid: 'a', createdAt: clock.now(), activatesAt: clock.now(), retiresAt: null },
    ];
    clock.advance(23 * HOUR);
    const later = planKeys(keys, clock.now(), policy);
    assert.equal(later.signing, 'a');
    assert.equal(later.create, undefined);
    assert.deepEqual(later.published, ['a']);
  });

  test('every key is published at least 120 s before it signs, and signing never pauses', () => {
    const clock = new ManualClock();
    const { published, signed } = simulate(clock, 5 * 24 * HOUR, 10_000);
    assert.ok(signed.size >= 5, `${signed.size} keys signed in 5 days`);
    for (const [kid, span] of signed) {
      if (kid === 'k1') continue; // the very first key has no predecessor to overlap with
      const lead = span.first - published.get(kid)!.first;
      assert.ok(lead >= 120_000, `${kid} published ${lead / 1000} s before it signed`);
    }
  });

  test('a retired key stays published until its last token (10 min) has expired, then is dropped', () => {
    const clock = new ManualClock();
    const { published, signed } = simulate(clock, 3 * 24 * HOUR, 10_000);
    const k1 = signed.get('k1')!;
    const shown = published.get('k1')!;
    assert.ok(
      shown.last - k1.last >= 600_000,
      `published ${(shown.last - k1.last) / 1000} s after it last signed`,
    );
    assert.ok(shown.last - k1.last <= 600_000 + 120_000, 'and not much longer');
    const { keys } = simulate(new ManualClock(), 3 * 24 * HOUR, 10_000);
    assert.ok(keys.length <= 2, `old keys are removed (${keys.map((k) => k.kid).join(', ')} kept)`);
  });

  test('after a restart (same rows) the same key signs and nothing is made', () => {
    const clock = new ManualClock();
    const { keys } = simulate(clock, 30 * HOUR, 60_000);
    const before = planKeys(keys, clock.now(), policy);
    const restored = structuredClone(keys);
    const after = planKeys(restored, clock.now(), policy);
    assert.equal(after.signing, before.signing);
    assert.equal(after.create, undefined);
  });

  test('after a long downtime the old key goes on signing until its successor has been published long enough', () => {
    const clock = new ManualClock();
    const keys: KeyTimes[] = [
      { kid: 'a', createdAt: clock.now(), activatesAt: clock.now(), retiresAt: null },
    ];
    clock.advance(10 * 24 * HOUR);
    const plan = planKeys(keys, clock.now(), policy);
    assert.equal(plan.signing, 'a');
    assert.ok(plan.create && plan.create.activatesAt - clock.now() >= 120_000);
    assert.deepEqual(plan.retire, [{ kid: 'a', retiresAt: plan.create.activatesAt }]);
  });

  test('the rotation period is configurable, but never shorter than the publish lead', () => {
    assert.equal(keyPolicy(1).rotationMs, HOUR);
    assert.throws(() => keyPolicy(0.01), /publish lead/);
    assert.throws(() => keyPolicy(0.01, { jwksRefreshMs: 10_000 }), /publish lead/, '36 s ≤ 50 s lead');
    assert.equal(keyPolicy(0.02, { jwksRefreshMs: 10_000 }).rotationMs, 72_000);
  });

  test('by default the lead is 150 s and a retired key stays 660 s (10 min tokens + 60 s)', () => {
    assert.deepEqual(standard, { rotationMs: 24 * HOUR, publishLeadMs: 150_000, retentionMs: 660_000 });
    assert.deepEqual(tokenLifetimes(), { access: 600, service: 300 });
  });

  test('short token lifetimes and JWKS refresh shorten the lead and the retention, covering both token kinds', () => {
    assert.deepEqual(tokenLifetimes(60), { access: 60, service: 60 });
    assert.deepEqual(tokenLifetimes(1200), { access: 1200, service: 300 });
    const short = keyPolicy(0.025, { jwksRefreshMs: 10_000, lifetimes: tokenLifetimes(60) });
    assert.deepEqual(short, { rotationMs: 90_000, publishLeadMs: 50_000, retentionMs: 120_000 });
    const odd = keyPolicy(1, { lifetimes: { access: 60, service: 300 } });
    assert.equal(odd.retentionMs, 360_000, 'the longer-lived kind decides');
  });

  test('with short settings every key is published a lead ahead and stays until its last 60 s token expired', () => {
    const short = keyPolicy(0.025, { jwksRefreshMs: 10_000, lifetimes: tokenLifetimes(60) });
    const { published, signed, keys } = simulate(new ManualClock(), 20 * 60_000, 1_000, short);
    assert.ok(signed.size >= 10, `${signed.size} keys signed in 20 minutes`);
    const end = Math.max(...[...published.values()].map((p) => p.last));
    for (const [kid, span] of signed) {
      const shown = published.get(kid)!;
      if (kid !== 'k1') assert.ok(span.first - shown.first >= 50_000, `${kid} published a lead ahead`);
      if (shown.last === end) continue; // still published when the simulation stops
      assert.ok(shown.last - span.last >= 60_000, `${kid} outlives its last token`);
      assert.ok(shown.last - span.last <= 60_000 + 61_000, `${kid} is then dropped`);
    }
    assert.ok(keys.length <= 3, `old keys are removed (${keys.map((k) => k.kid).join(', ')} kept)`);
  });
});
