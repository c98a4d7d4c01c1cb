import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PaymentStatus } from '@bazaar/contracts';
import { decodeCursor, encodeCursor, InvalidCursorError } from '@bazaar/contracts';
import {
  authorizedFields,
  decideStep,
  type PaymentRecord,
  providerKey,
  toPayment,
} from '../src/domain/payment.ts';

test('each step acts only from its state, answers settled states as they are, and refuses the rest', () => {
  const table: Record<PaymentStatus, Record<'capture' | 'void' | 'refund', string>> = {
    AUTHORIZED: { capture: 'act', void: 'act', refund: 'invalid' },
    DECLINED: { capture: 'invalid', void: 'as-is', refund: 'invalid' },
    CAPTURED: { capture: 'as-is', void: 'invalid', refund: 'act' },
    VOIDED: { capture: 'invalid', void: 'as-is', refund: 'invalid' },
    REFUNDED: { capture: 'as-is', void: 'invalid', refund: 'as-is' },
  };
  for (const [status, steps] of Object.entries(table) as [PaymentStatus, Record<string, string>][]) {
    for (const [step, expected] of Object.entries(steps)) {
      assert.equal(decideStep(step as 'capture', status), expected, `${step} of ${status}`);
    }
  }
});

test("the provider's keys are derived from the order id, one per operation", () => {
  assert.equal(providerKey('authorize', 'o-1'), providerKey('authorize', 'o-1'));
  assert.notEqual(providerKey('authorize', 'o-1'), providerKey('capture', 'o-1'));
  assert.notEqual(providerKey('void', 'o-1'), providerKey('void', 'o-2'));
});

test('a decline becomes a DECLINED payment with its code and no hold; an authorization keeps its ref', () => {
  assert.deepEqual(authorizedFields({ outcome: 'declined', code: 'insufficient_funds' }), {
    status: 'DECLINED',
    declineCode: 'insufficient_funds',
    providerRef: null,
  });
  assert.deepEqual(authorizedFields({ outcome: 'authorized', ref: 'auth_1' }), {
    status: 'AUTHORIZED',
    declineCode: null,
    providerRef: 'auth_1',
  });
});

test('the public payment shows a decline code only when declined, and never the customer or the ref', () => {
  const record: PaymentRecord = {
    id: 'p',
    orderId: 'o',
    customerId: 'c',
    status: 'AUTHORIZED',
    amount: 100,
    currency: 'USD',
    declineCode: null,
    providerRef: 'auth_1',
    createdAt: new Date().toISOString(),
  };
  assert.deepEqual(Object.keys(toPayment(record)).sort(), ['amount', 'currency', 'id', 'orderId', 'status']);
  const declined = toPayment({
    ...record,
    status: 'DECLINED',
    declineCode: 'card_declined',
    providerRef: null,
  });
  assert.equal(declined.declineCode, 'card_declined');
});

test('a cursor reads back to its position, and anything else is refused', () => {
  const position = { createdAt: '2025-01-02T03:04:05.678Z', id: '0b5e7c1e-1111-4222-8333-444455556666' };
  assert.deepEqual(decodeCursor(encodeCursor(position)), position);
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  for (const bad of [
    'not-a-cursor',
    '',
    forged(['yesterday', position.id]),
    forged([position.createdAt, "x' OR 1=1"]),
    forged({ createdAt: position.createdAt, id: position.id }),
  ]) {
    assert.throws(() => decodeCursor(bad), InvalidCursorError, bad);
  }
});
