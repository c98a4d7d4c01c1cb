import type { Stock } from '@bazaar/contracts';

/** The three counters of a product's stock. onHand (what the merchant has) = available + reserved. */
export interface StockLevels {
  available: number;
  reserved: number;
  /** Committed to confirmed orders, net of returns. */
  sold: number;
}

/** A kind of ledger row: every change of a stock row is exactly one of these. */
export type MovementKind = 'adjustment' | 'reserve' | 'release' | 'expire' | 'commit' | 'return';

/** How a movement changes the counters of a stock row. */
export type Delta = StockLevels;

/**
 * What a movement of `quantity` does to the counters. `adjustment` takes a signed quantity (the
 * change of onHand); the others a positive one. Every movement but `adjustment` keeps
 * available + reserved + sold, so that sum always equals the sum of adjustments (invariant I2).
 */
export function deltaOf(kind: MovementKind, quantity: number): Delta {
  switch (kind) {
    case 'adjustment':
      return { available: quantity, reserved: 0, sold: 0 };
    case 'reserve':
      return { available: -quantity, reserved: quantity, sold: 0 };
    case 'release':
    case 'expire':
      return { available: quantity, reserved: -quantity, sold: 0 };
    case 'commit':
      return { available: 0, reserved: -quantity, sold: quantity };
    case 'return':
      return { available: quantity, reserved: 0, sold: -quantity };
  }
}

/**
 * The adjustment that sets onHand to `onHand`: its signed quantity, 0 when nothing changes, or
 * `below-reserved` when it would leave less than what reservations hold (those units are promised).
 */
export function adjustmentTo(levels: StockLevels, onHand: number): number | 'below-reserved' {
  if (onHand < levels.reserved) return 'below-reserved';
  return onHand - (levels.available + levels.reserved);
}

/** The stock as `GET /api/inventory/:productId` answers it; the counts behind it only to owners and admins. */
export function stockView(productId: string, levels: StockLevels | null, full: boolean): Stock {
  const available = levels?.available ?? 0;
  if (!full) return { productId, available };
  const reserved = levels?.reserved ?? 0;
  return { productId, available, onHand: available + reserved, reserved };
}
