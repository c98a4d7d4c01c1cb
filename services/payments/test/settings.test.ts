import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PaymentsLiveConfig } from '@bazaar/contracts';
import { ConfigError, checkLiveConfig, loadConfig } from '@bazaar/kit';
import { liveProviderSettings, ProviderConfig, providerSettings } from '../src/provider/settings.ts';
import { paymentsService } from '../src/service.ts';

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

test("a live-config version's simulator values replace the settings the provider reads", async () => {
  const ctx = {};
  const settings = liveProviderSettings(ctx, { declineRate: 0.1, errorRate: 0.2, latencyMs: 30 });
  const version = checkLiveConfig(PaymentsLiveConfig, { simulator: { declineRate: 1 } });
  assert.ok(version.ok);
  await paymentsService().liveConfig?.(version.values, ctx as never);
  assert.deepEqual(
    settings,
    { declineRate: 1, errorRate: 0, latencyMs: 0 },
    'replaced whole, defaults included',
  );
  const other = { declineRate: 0.5, errorRate: 0, latencyMs: 0 };
  liveProviderSettings({}, other);
  await paymentsService().liveConfig?.(version.values, {} as never);
  assert.equal(other.declineRate, 0.5, "another instance's settings are its own");
});
