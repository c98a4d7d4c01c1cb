import { Counter, type Registry } from 'prom-client';

/** The metrics of authentication on one instance. Labels are bounded sets only. */
export interface AuthMetrics {
  jwksFetches: Counter<'reason' | 'outcome'>;
  verifications: Counter<'kind' | 'outcome'>;
  rejections: Counter<'kind' | 'reason'>;
  revocationPolls: Counter<'outcome'>;
  serviceTokenExchanges: Counter<'audience' | 'outcome'>;
}

const byRegistry = new WeakMap<Registry, AuthMetrics>();

/** The auth metrics on `registry`, created once per registry. */
export function authMetrics(registry: Registry): AuthMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics) return metrics;
  const registers = [registry];
  metrics = {
    jwksFetches: new Counter({
      name: 'bazaar_auth_jwks_fetches_total',
      help: "Fetches of identity's signing keys, by reason (initial, periodic, stale, unknown-kid) and outcome",
      labelNames: ['reason', 'outcome'],
      registers,
    }),
    verifications: new Counter({
      name: 'bazaar_auth_verifications_total',
      help: 'Tokens checked, by kind (access, service) and outcome (verified, cached, rejected)',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    rejections: new Counter({
      name: 'bazaar_auth_rejections_total',
      help: 'Tokens refused, by kind and reason',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    revocationPolls: new Counter({
      name: 'bazaar_auth_revocation_polls_total',
      help: "Polls of identity's revocation list, by outcome",
      labelNames: ['outcome'],
      registers,
    }),
    serviceTokenExchanges: new Counter({
      name: 'bazaar_auth_service_token_exchanges_total',
      help: 'Service credentials exchanged at identity for service tokens, by audience and outcome',
      labelNames: ['audience', 'outcome'],
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
