import type { CartContents, OrderLine, ProductFacts } from '@bazaar/contracts';

/** An order's lines as priced from the cart and the catalog at checkout. */
export interface PricedCart {
  lines: OrderLine[];
  total: number;
  /** Products of the cart the catalog no longer offers (unknown, hidden, or in another currency). */
  unavailable: string[];
}

/**
 * Prices the cart's lines with the catalog's facts: names, prices and merchants come from the
 * catalog now, never from the client. A product listed twice is one line. Products the catalog no
 * longer offers are left out, as the cart leaves them out of what the customer sees: the order is
 * what the customer was shown.
 */
export function priceCart(cart: CartContents, facts: readonly ProductFacts[], currency: string): PricedCart {
  const byId = new Map(facts.map((f) => [f.id, f]));
  const quantities = new Map<string, number>();
  for (const item of cart.items) {
    quantities.set(item.productId, (quantities.get(item.productId) ?? 0) + item.quantity);
  }
  const lines: OrderLine[] = [];
  const unavailable: string[] = [];
  for (const [productId, quantity] of quantities) {
    const fact = byId.get(productId);
    if (!fact || fact.hidden || fact.currency !== currency) {
      unavailable.push(productId);
      continue;
    }
    lines.push({
      productId,
      name: fact.name,
      price: fact.price,
      quantity,
      lineTotal: fact.price * quantity,
      merchantId: fact.merchantId,
    });
  }
  return { lines, total: lines.reduce((sum, l) => sum + l.lineTotal, 0), unavailable };
}
