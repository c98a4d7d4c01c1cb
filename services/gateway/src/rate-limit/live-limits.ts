import type { GatewayRateLimits } from '@bazaar/contracts';
import { parseLimit } from '../domain/limit-spec.ts';
import type { RateLimitPolicies, RateLimits } from './rate-limits.ts';

const byInstance = new WeakMap<object, RateLimits>();

/** Remembers an instance's rate limits (keyed by its service context), so a live config can replace them. */
export function liveLimits(ctx: object, limits: RateLimits): RateLimits {
  byInstance.set(ctx, limits);
  return limits;
}

/**
 * The gateway's part of a live-config version: its `rateLimits` replace the instance's limits
 * (the environment's stay in force until a version is set). A limit that does not parse throws,
 * and the instance keeps the limits it had.
 */
export function applyLiveLimits(ctx: object, values: Record<string, unknown>): void {
  const limits = byInstance.get(ctx);
  if (!limits) return;
  limits.replace(policiesOf(values.rateLimits as GatewayRateLimits));
}

/** The bucket policies of the config center's `rateLimits` (`off` leaves a limit out). */
export function policiesOf(specs: GatewayRateLimits): RateLimitPolicies {
  const parse = (name: keyof GatewayRateLimits) => {
    try {
      return parseLimit(specs[name]);
    } catch (err) {
      throw new Error(`rateLimits.${name}: ${(err as Error).message}`);
    }
  };
  return {
    perAddress: parse('perAddress'),
    perUser: parse('perUser'),
    loginFailuresPerAccount: parse('loginFailuresPerAccount'),
    loginFailuresPerAddress: parse('loginFailuresPerAddress'),
  };
}
