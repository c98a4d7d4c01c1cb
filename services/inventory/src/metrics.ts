import { Counter, type Registry } from 'prom-client';
import type { StepResult } from './store/reservations.ts';

/** Inventory's own counters. Labels are bounded sets: outcomes and steps, never ids. */
export interface InventoryMetrics {
  /** `bazaar_inventory_reservations_total{outcome}`: reserve calls by outcome (reserved, rejected, replayed). */
  reservations: Counter<'outcome'>;
  /** `bazaar_inventory_reservation_steps_total{step, outcome}`: commit, release and return calls. */
  steps: Counter<'step' | 'outcome'>;
  /** `bazaar_inventory_reservations_expired_total{by}`: expired by the job, or by a commit that came too late. */
  expired: Counter<'by'>;
  /** `bazaar_inventory_stock_adjustments_total{outcome}`: merchants' stock settings (changed, unchanged, below_reserved). */
  adjustments: Counter<'outcome'>;
}

const made = new WeakMap<Registry, InventoryMetrics>();

/** Inventory's metrics on `registry`, made once per registry (routes and the expiry job share them). */
export function inventoryMetrics(registry: Registry): InventoryMetrics {
  let metrics = made.get(registry);
  if (!metrics) {
    const registers = [registry];
    metrics = {
      reservations: new Counter({
        name: 'bazaar_inventory_reservations_total',
        help: 'Reserve calls, by outcome (reserved, rejected, replayed)',
        labelNames: ['outcome'],
        registers,
      }),
      steps: new Counter({
        name: 'bazaar_inventory_reservation_steps_total',
        help: 'Commit, release and return calls, by step and outcome (applied, as-is, or the refusal code)',
        labelNames: ['step', 'outcome'],
        registers,
      }),
      expired: new Counter({
        name: 'bazaar_inventory_reservations_expired_total',
        help: 'Reservations expired, by who noticed (job, commit)',
        labelNames: ['by'],
        registers,
      }),
      adjustments: new Counter({
        name: 'bazaar_inventory_stock_adjustments_total',
        help: 'Stock settings by merchants and admins, by outcome (changed, unchanged, below_reserved)',
        labelNames: ['outcome'],
        registers,
      }),
    };
    made.set(registry, metrics);
  }
  return metrics;
}

/** The `outcome` label of a step's result. */
export function stepOutcome(result: StepResult): string {
  return result.outcome === 'refused' ? result.refusal.toLowerCase() : result.outcome;
}
