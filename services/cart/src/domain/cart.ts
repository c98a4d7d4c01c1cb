import type { Cart, CartLine, OrderLineRef, ProductFacts } from '@bazaar/contracts';

/** At most this many lines in a cart (QUALITY "limits": cart ≤ 100 lines of ≤ 99). */
export const MAX_LINES = 100;

/** A line as the cart keeps it: which product and how many, no price. */
export interface StoredLine {
  productId: string;
  quantity: number;
}

/** What setting a line to `quantity` does: remove it, set it, or refuse because the cart is full. */
export type LineChange = 'remove' | 'set' | 'full';

/** Decides a line change; only a new line can overflow the cart, a changed quantity never does. */
export function decideLineChange(
  cart: { lineCount: number; hasLine: boolean },
  quantity: number,
): LineChange {
  if (quantity === 0) return 'remove';
  if (!cart.hasLine && cart.lineCount >= MAX_LINES) return 'full';
  return 'set';
}

/** Whether a product may go into a cart: catalog knows it and it is not hidden. */
export function isBuyable(facts: ProductFacts | undefined): facts is ProductFacts {
  return facts !== undefined && !facts.hidden;
}

/**
 * The cart at today's prices. Lines whose product catalog does not know or has hidden are left
 * out of the answer (they stay stored: a product shown again comes back).
 */
export function priceCart(
  lines: StoredLine[],
  facts: ReadonlyMap<string, ProductFacts>,
  currency: string,
): Cart {
  const items: CartLine[] = [];
  for (const line of lines) {
    const product = facts.get(line.productId);
    if (!isBuyable(product)) continue;
    items.push({
      productId: line.productId,
      name: product.name,
      price: product.price,
      quantity: line.quantity,
      lineTotal: product.price * line.quantity,
    });
  }
  return { items, total: items.reduce((sum, line) => sum + line.lineTotal, 0), currency };
}

/**
 * The cart's lines after an order of `ordered` was confirmed: each ordered quantity is taken off
 * its line, and a line that reaches zero goes. Lines the order did not contain are untouched, so
 * what was added after checkout stays.
 */
export function afterOrder(
  lines: StoredLine[],
  ordered: OrderLineRef[],
): { set: StoredLine[]; remove: string[] } {
  const taken = new Map<string, number>();
  for (const item of ordered) taken.set(item.productId, (taken.get(item.productId) ?? 0) + item.quantity);
  const set: StoredLine[] = [];
  const remove: string[] = [];
  for (const line of lines) {
    const quantity = taken.get(line.productId);
    if (quantity === undefined) continue;
    const left = line.quantity - quantity;
    if (left > 0) set.push({ productId: line.productId, quantity: left });
    else remove.push(line.productId);
  }
  return { set, remove };
}
