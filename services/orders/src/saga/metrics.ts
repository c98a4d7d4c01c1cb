import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The saga's metrics. Labels are bounded: steps, outcome kinds and cancel reasons, never ids. */
export interface SagaMetrics {
  /** Sagas that ended, by `outcome` (confirmed, cancelled) and `reason` (a cancel reason, or none). */
  ended: Counter<'outcome' | 'reason'>;
  /** Time of each step's call, by step and outcome kind. */
  stepDuration: Histogram<'step' | 'outcome'>;
}

/** Registers the saga's metrics; `pending` is read at scrape time (PENDING orders in the database). */
export function sagaMetrics(registry: Registry, pending: () => Promise<number>): SagaMetrics {
  new Gauge({
    name: 'bazaar_orders_pending',
    help: 'Orders whose checkout saga has not ended (status PENDING)',
    registers: [registry],
    async collect() {
      try {
        this.set(await pending());
      } catch {
        // The database is away: keep the last value rather than fail the whole scrape.
      }
    },
  });
  return {
    ended: new Counter({
      name: 'bazaar_sagas_total',
      help: 'Checkout sagas that ended, by outcome and cancel reason',
      labelNames: ['outcome', 'reason'],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'bazaar_saga_step_duration_seconds',
      help: 'Duration of checkout saga steps, by step and outcome',
      labelNames: ['step', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
