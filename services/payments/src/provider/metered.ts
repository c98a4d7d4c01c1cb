import { Counter, type Registry } from 'prom-client';
import type { CardProvider, ProviderOperation } from '../domain/provider.ts';

const counters = new WeakMap<Registry, Counter<'operation' | 'outcome'>>();

/** `bazaar_payment_provider_calls_total{operation, outcome}` on `registry`, made once per registry. */
function providerCalls(registry: Registry): Counter<'operation' | 'outcome'> {
  let counter = counters.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'bazaar_payment_provider_calls_total',
      help: 'Card provider calls, by operation and outcome (authorized, declined, ok, error)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    });
    // Authorizations reported from 0, so the first decline already counts in a decline rate.
    for (const outcome of ['authorized', 'declined', 'error'])
      counter.inc({ operation: 'authorize', outcome }, 0);
    counters.set(registry, counter);
  }
  return counter;
}

/** Wraps a provider so every call is counted by operation and outcome. */
export function meteredProvider(provider: CardProvider, registry: Registry): CardProvider {
  const calls = providerCalls(registry);
  const count = async <T>(
    operation: ProviderOperation,
    call: () => Promise<T>,
    outcome: (r: T) => string,
  ) => {
    try {
      const result = await call();
      calls.inc({ operation, outcome: outcome(result) });
      return result;
    } catch (err) {
      calls.inc({ operation, outcome: 'error' });
      throw err;
    }
  };
  const ok = () => 'ok';
  return {
    authorize: (key, amount, currency, token) =>
      count(
        'authorize',
        () => provider.authorize(key, amount, currency, token),
        (a) => a.outcome,
      ),
    capture: (ref, key) => count('capture', () => provider.capture(ref, key), ok),
    void: (ref, key) => count('void', () => provider.void(ref, key), ok),
    refund: (ref, key) => count('refund', () => provider.refund(ref, key), ok),
    voidByKey: (authorizeKey, key) => count('void', () => provider.voidByKey(authorizeKey, key), ok),
  };
}
