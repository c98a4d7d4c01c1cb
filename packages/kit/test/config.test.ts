import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.ts';

test('defaults apply when the environment says nothing', () => {
  const config = loadConfig(undefined, {});
  assert.equal(config.BAZAAR_PORT, 0);
  assert.equal(config.BAZAAR_BALANCER, 'round-robin');
  assert.equal(config.BAZAAR_DEFAULT_DEADLINE_MS, 5_000);
  assert.equal(config.BAZAAR_CHAOS, false);
});

test('values are converted to their types', () => {
  const config = loadConfig(undefined, {
    BAZAAR_PORT: '8080',
    BAZAAR_CHAOS: 'true',
    BAZAAR_BALANCER: 'p2c-ewma',
  });
  assert.equal(config.BAZAAR_PORT, 8080);
  assert.equal(config.BAZAAR_CHAOS, true);
  assert.equal(config.BAZAAR_BALANCER, 'p2c-ewma');
});

test('every bad value is reported by name with what was given', () => {
  assert.throws(
    () =>
      loadConfig(undefined, {
        BAZAAR_PORT: 'eighty',
        BAZAAR_BALANCER: 'random',
        BAZAAR_DATABASE_URL: 'mysql://x',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /BAZAAR_PORT: .*\(got "eighty"\)/);
      assert.match(err.message, /BAZAAR_BALANCER/);
      assert.match(err.message, /BAZAAR_DATABASE_URL/);
      return true;
    },
  );
});

test('a port out of range is refused', () => {
  assert.throws(() => loadConfig(undefined, { BAZAAR_PORT: '70000' }), /BAZAAR_PORT/);
});
