import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProviderSettings } from '@bazaar/contracts';
import { createServiceDatabase, type ServiceTestDatabase } from '@bazaar/kit/testing';
import { ProviderError } from '../src/domain/provider.ts';
import { simulatedProvider } from '../src/provider/simulated.ts';

let database: ServiceTestDatabase;
const settings: ProviderSettings = { declineRate: 0, errorRate: 0, latencyMs: 0 };
let dice = 0.5;
const provider = () => simulatedProvider({ db: database.pool, settings, random: () => dice });

before(async () => {
  database = await createServiceDatabase('payments_test', new URL('../migrations/', import.meta.url));
});
after(() => database.drop());

async function operations(key: string): Promise<number> {
  const { rows } = await database.pool.query(
    'SELECT count(*)::int AS n FROM provider_operations WHERE idempotency_key = $1',
    [key],
  );
  return rows[0].n;
}

test('the test cards answer as CONTRACT says', async () => {
  const p = provider();
  const visa = await p.authorize('k-visa', 500, 'USD', 'tok_visa');
  assert.equal(visa.outcome, 'authorized');
  assert.deepEqual(await p.authorize('k-declined', 500, 'USD', 'tok_chargeDeclined'), {
    outcome: 'declined',
    code: 'card_declined',
  });
  assert.deepEqual(await p.authorize('k-funds', 500, 'USD', 'tok_insufficientFunds'), {
    outcome: 'declined',
    code: 'insufficient_funds',
  });
});

test('an authorize repeated with the same key authorizes once and answers the same hold', async () => {
  const p = provider();
  const first = await p.authorize('k-repeat', 700, 'USD', 'tok_visa');
  const second = await p.authorize('k-repeat', 700, 'USD', 'tok_visa');
  assert.deepEqual(second, first);
  assert.equal(await operations('k-repeat'), 1);
});

test('other cards are declined by the decline rate, and the first answer sticks to its key', async () => {
  const p = provider();
  settings.declineRate = 0.3;
  try {
    dice = 0.2;
    assert.deepEqual(await p.authorize('k-unlucky', 100, 'USD', 'tok_other'), {
      outcome: 'declined',
      code: 'card_declined',
    });
    dice = 0.9;
    assert.equal((await p.authorize('k-lucky', 100, 'USD', 'tok_other')).outcome, 'authorized');
    assert.equal((await p.authorize('k-unlucky', 100, 'USD', 'tok_other')).outcome, 'declined');
  } finally {
    settings.declineRate = 0;
    dice = 0.5;
  }
});

test('a provider error is thrown as a ProviderError and leaves nothing done', async () => {
  const p = provider();
  settings.errorRate = 1;
  try {
    await assert.rejects(p.authorize('k-error', 100, 'USD', 'tok_visa'), ProviderError);
  } finally {
    settings.errorRate = 0;
  }
  assert.equal(await operations('k-error'), 0);
  assert.equal((await p.authorize('k-error', 100, 'USD', 'tok_visa')).outcome, 'authorized');
});

test('capture, void and refund act on a known authorization once per key; an unknown one is an error', async () => {
  const p = provider();
  const hold = await p.authorize('k-hold', 100, 'USD', 'tok_visa');
  assert.equal(hold.outcome, 'authorized');
  if (hold.outcome !== 'authorized') return;
  await p.capture(hold.ref, 'k-hold:capture');
  await p.capture(hold.ref, 'k-hold:capture');
  assert.equal(await operations('k-hold:capture'), 1);
  await assert.rejects(p.void('auth_nobody', 'k-nobody:void'), ProviderError);
  await assert.rejects(p.refund(hold.ref, 'k-hold:capture'), ProviderError, 'a key names one operation');
});
