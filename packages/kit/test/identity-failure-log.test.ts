import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { failureLog, IDENTITY_START_GRACE_MS, identityFailureLevel } from '../src/auth/identity-api.ts';
import { NO_INSTANCE_REGISTERED, ServiceUnavailableError } from '../src/client/errors.ts';

/** A logger at debug whose lines land in `lines` as `level message`. */
function capturing() {
  const lines: string[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const { level, msg } = JSON.parse(line) as { level: number; msg: string };
        lines.push(`${pino.levels.labels[level]} ${msg}`);
      },
    },
  );
  return { log, lines };
}

const notYet = () => new ServiceUnavailableError('identity', NO_INSTANCE_REGISTERED);

test('identity not registered yet is only debug while the instance is starting, a warning after', () => {
  assert.equal(identityFailureLevel(notYet(), 1_000), 'debug');
  assert.equal(identityFailureLevel(notYet(), IDENTITY_START_GRACE_MS + 1), 'warn');
  // Any other failure is a warning from the first second.
  assert.equal(
    identityFailureLevel(new ServiceUnavailableError('identity', 'no instance answered'), 1_000),
    'warn',
  );
  assert.equal(
    identityFailureLevel(new ServiceUnavailableError('catalog', NO_INSTANCE_REGISTERED), 1_000),
    'warn',
  );
  assert.equal(identityFailureLevel(new Error('ECONNREFUSED'), 1_000), 'warn');
});

test('a run of failures is logged once, at its first failure, and its end once, at the same level', () => {
  const { log, lines } = capturing();
  const keys = failureLog(log, 'could not fetch the signing keys', 'signing keys fetched again');
  keys.succeeded();
  keys.failed(new Error('ECONNREFUSED'));
  keys.failed(new Error('ECONNREFUSED'));
  keys.succeeded();
  keys.succeeded();
  assert.deepEqual(lines, ['warn could not fetch the signing keys', 'info signing keys fetched again']);

  // In this test process (younger than the grace), identity not registered yet is debug, and so is
  // its end; a later, real failure is a warning again.
  lines.length = 0;
  keys.failed(notYet());
  keys.succeeded();
  keys.failed(new Error('identity answered 500'));
  assert.deepEqual(lines, [
    'debug could not fetch the signing keys',
    'debug signing keys fetched again',
    'warn could not fetch the signing keys',
  ]);
});
