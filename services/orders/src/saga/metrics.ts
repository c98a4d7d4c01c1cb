import { scrapeTimeGauge } from '@bazaar/kit';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The saga's metrics. Labels are bounded: steps, outcome kinds and cancel reasons, never ids. */
export interface SagaMetrics {
  /** Sagas that ended, by `outcome` (confirmed, cancelled) and `reason` (a cancel reason, or none). */
  ended: Counter<'outcome' | 'reason'>;
  /** Time from an order's creation to CONFIRMED or CANCELLED, by outcome. */
  duration: Histogram<'outcome'>;
  /** Time of each step's call, by step and outcome kind. */
  stepDuration: Histogram<'step' | 'outcome'>;
}

/** What the scrape-time gauges read from the database. */
export interface SagaCounts {
  /** PENDING orders. */
  pending: () => Promise<number>;
  /** PENDING orders older than {@link STUCK_AFTER_SECONDS}. */
  stuck: () => Promise<number>;
}

/** A saga still PENDING this long after its order was created counts as stuck (an alert reads it). */
export const STUCK_AFTER_SECONDS = 120;

/** Registers the saga's metrics; the gauges are read at scrape time from the database. */
export function sagaMetrics(registry: Registry, counts: SagaCounts): SagaMetrics {
  scrapeTimeGauge(registry, {
    name: 'bazaar_orders_pending',
    help: 'Orders whose checkout saga has not ended (status PENDING)',
    read: counts.pending,
  });
  scrapeTimeGauge(registry, {
    name: 'bazaar_sagas_stuck',
    help: `Checkout sagas still PENDING more than ${STUCK_AFTER_SECONDS} s after their order was created`,
    read: counts.stuck,
  });
  return {
    ended: new Counter({
      name: 'bazaar_sagas_total',
      help: 'Checkout sagas that ended, by outcome and cancel reason',
      labelNames: ['outcome', 'reason'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'bazaar_saga_duration_seconds',
      help: 'Time from order creation to CONFIRMED or CANCELLED, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
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
