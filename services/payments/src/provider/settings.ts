import type { ProviderSettings } from '@bazaar/contracts';
import { Type } from 'typebox';

/** Payments' own environment settings: the simulated provider's failure injection. */
export const ProviderConfig = Type.Object({
  /** Share of payments with other test cards that are declined (`card_declined`). */
  BAZAAR_PAYMENT_DECLINE_RATE: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** Share of provider calls that fail with a provider error. */
  BAZAAR_PAYMENT_ERROR_RATE: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** How long every provider call takes. */
  BAZAAR_PAYMENT_LATENCY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
});

/** The environment settings as read and validated by the kit. */
export interface ProviderConfig {
  BAZAAR_PAYMENT_DECLINE_RATE: number;
  BAZAAR_PAYMENT_ERROR_RATE: number;
  BAZAAR_PAYMENT_LATENCY_MS: number;
}

/**
 * The simulated provider's settings from the environment, as one mutable object: the provider
 * reads it on every call, so a change (the config center's push) applies to the next call.
 */
export function providerSettings(config: ProviderConfig): ProviderSettings {
  return {
    declineRate: config.BAZAAR_PAYMENT_DECLINE_RATE,
    errorRate: config.BAZAAR_PAYMENT_ERROR_RATE,
    latencyMs: config.BAZAAR_PAYMENT_LATENCY_MS,
  };
}

const byInstance = new WeakMap<object, ProviderSettings>();

/** Remembers the settings an instance's provider reads (keyed by its service context), for live config. */
export function liveProviderSettings(ctx: object, settings: ProviderSettings): ProviderSettings {
  byInstance.set(ctx, settings);
  return settings;
}

/**
 * Payments' part of a live-config version: its `simulator` values replace the provider's settings,
 * which the next provider call reads. Until a version is set, the environment's stay in force.
 */
export function applyLiveSimulator(ctx: object, values: Record<string, unknown>): void {
  const settings = byInstance.get(ctx);
  if (!settings) return;
  const simulator = values.simulator as ProviderSettings;
  settings.declineRate = simulator.declineRate;
  settings.errorRate = simulator.errorRate;
  settings.latencyMs = simulator.latencyMs;
}
