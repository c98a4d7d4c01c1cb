import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '@bazaar/kit';
import { ProviderConfig, providerSettings } from '../src/provider/settings.ts';

test('the provider settings default to no declines, no errors and no latency', () => {
  assert.deepEqual(providerSettings(loadConfig<ProviderConfig>(ProviderConfig, {})), {
    declineRate: 0,
    errorRate: 0,
    latencyMs: 0,
  });
});

test('the provider settings are read from BAZAAR_PAYMENT_*, and a rate above 1 stops the start', () => {
  const env = {
    BAZAAR_PAYMENT_DECLINE_RATE: '0.25',
    BAZAAR_PAYMENT_ERROR_RATE: '0.1',
    BAZAAR_PAYMENT_LATENCY_MS: '40',
  };
  assert.deepEqual(providerSettings(loadConfig<ProviderConfig>(ProviderConfig, env)), {
    declineRate: 0.25,
    errorRate: 0.1,
    latencyMs: 40,
  });
  assert.throws(
    () => loadConfig(ProviderConfig, { BAZAAR_PAYMENT_ERROR_RATE: '1.5' }),
    (err: unknown) => err instanceof ConfigError && /BAZAAR_PAYMENT_ERROR_RATE/.test(err.message),
  );
});
