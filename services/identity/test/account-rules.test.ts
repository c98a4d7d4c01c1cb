import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  emailProblem,
  nameProblem,
  normalizeEmail,
  normalizeName,
  passwordProblem,
} from '../src/domain/account-rules.ts';

test('emails are trimmed and lower-cased, so one address has one spelling', () => {
  assert.equal(normalizeEmail('  Ada.Lovelace@Example.COM\t'), 'ada.lovelace@example.com');
  assert.equal(normalizeEmail('ÉMILE@example.com'), normalizeEmail('E\u0301mile@EXAMPLE.com'));
});

test('an email needs a local part, an @ and a dotted domain', () => {
  assert.equal(emailProblem('a@b.co'), undefined);
  for (const bad of ['', 'plain', 'a@b', '@b.co', 'a b@c.co', `${'x'.repeat(250)}@b.co`]) {
    assert.ok(emailProblem(bad), bad);
  }
});

test('passwords are 10 to 128 characters, counted as characters not bytes', () => {
  assert.ok(passwordProblem('123456789'));
  assert.equal(passwordProblem('1234567890'), undefined);
  assert.equal(passwordProblem('x'.repeat(128)), undefined);
  assert.ok(passwordProblem('x'.repeat(129)));
  assert.equal(passwordProblem('🔑'.repeat(10)), undefined, 'ten emoji are ten characters');
  assert.ok(passwordProblem('🔑'.repeat(5)), 'five emoji are not ten');
});

test('names are trimmed, 1 to 100 characters, without control characters', () => {
  assert.equal(normalizeName('  Ada  '), 'Ada');
  assert.ok(nameProblem(normalizeName('   ')));
  assert.ok(nameProblem('x'.repeat(101)));
  assert.ok(nameProblem('bell\u0007'));
  assert.equal(nameProblem('Ada Lovelace'), undefined);
});
