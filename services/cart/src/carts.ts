import type { Cart, OrderConfirmedEvent, ProductFacts } from '@bazaar/contracts';
import { AppError, type ServiceClient, withTransaction } from '@bazaar/kit';
import type pg from 'pg';
import { lookupProducts } from './catalog.ts';
import {
  afterOrder,
  decideLineChange,
  isBuyable,
  MAX_LINES,
  priceCart,
  type StoredLine,
} from './domain/cart.ts';
import { clearCart, lockCart, readLines, removeLines, setLine } from './store/carts.ts';

/** What the cart operations work with. */
export interface Carts {
  db: pg.Pool;
  catalog: () => ServiceClient;
  currency: string;
}

/** A customer's cart at catalog's prices of now. */
export async function showCart(carts: Carts, customerId: string): Promise<Cart> {
  return priced(carts, customerId, new Map());
}

/**
 * Sets a line of the cart (0 removes it) and answers the cart. A product catalog does not know, or
 * has hidden, is 404; a 101st line is 409 `CART_FULL`. Removing asks catalog nothing, so a line of
 * a product hidden since can always be taken out.
 */
export async function setCartLine(
  carts: Carts,
  customerId: string,
  productId: string,
  quantity: number,
): Promise<Cart> {
  let facts = new Map<string, ProductFacts>();
  if (quantity > 0) {
    const before = await readLines(carts.db, customerId);
    const ids = new Set([productId, ...before.map((l) => l.productId)]);
    if (ids.size > MAX_LINES) throw cartFull();
    // One lookup checks the product and prices the lines the answer will most likely show.
    facts = await lookupProducts(carts.catalog(), [...ids]);
    if (!isBuyable(facts.get(productId))) {
      throw new AppError('PRODUCT_NOT_FOUND', `There is no product ${productId}.`);
    }
  }
  // The lines as this change leaves them: the answer shows the cart as of the change.
  const after = await withTransaction(carts.db, async (tx) => {
    await lockCart(tx, customerId, true);
    const lines = await readLines(tx, customerId);
    const hasLine = lines.some((l) => l.productId === productId);
    const change = decideLineChange({ lineCount: lines.length, hasLine }, quantity);
    if (change === 'full') throw cartFull();
    if (change === 'remove') {
      await removeLines(tx, customerId, [productId]);
      return lines.filter((l) => l.productId !== productId);
    }
    await setLine(tx, customerId, { productId, quantity });
    // A changed line keeps its place (its added_at); a new one is the newest.
    return hasLine
      ? lines.map((l) => (l.productId === productId ? { productId, quantity } : l))
      : [...lines, { productId, quantity }];
  });
  return priceLines(carts, after, facts);
}

/** Removes a line and answers the cart. */
export async function removeCartLine(carts: Carts, customerId: string, productId: string): Promise<Cart> {
  await removeLines(carts.db, customerId, [productId]);
  return priced(carts, customerId, new Map());
}

/** Empties the cart. */
export async function emptyCart(carts: Carts, customerId: string): Promise<void> {
  await clearCart(carts.db, customerId);
}

/**
 * Takes an order's lines off its customer's cart, in the consumer's transaction (the kit records
 * the event in the inbox in the same one, so a redelivery changes nothing).
 */
export async function removeOrderedLines(tx: pg.PoolClient, order: OrderConfirmedEvent): Promise<void> {
  if (!(await lockCart(tx, order.customerId, false))) return;
  const change = afterOrder(await readLines(tx, order.customerId), order.items);
  await removeLines(tx, order.customerId, change.remove);
  for (const line of change.set) await setLine(tx, order.customerId, line);
}

/** The stored lines priced with `known` facts, asking catalog for the ones not known yet. */
async function priced(carts: Carts, customerId: string, known: Map<string, ProductFacts>): Promise<Cart> {
  return priceLines(carts, await readLines(carts.db, customerId), known);
}

async function priceLines(
  carts: Carts,
  lines: StoredLine[],
  known: Map<string, ProductFacts>,
): Promise<Cart> {
  const missing = lines.map((l) => l.productId).filter((id) => !known.has(id));
  const facts = new Map([...known, ...(await lookupProducts(carts.catalog(), missing))]);
  return priceCart(lines, facts, carts.currency);
}

function cartFull(): AppError {
  return new AppError('CART_FULL', `A cart holds at most ${MAX_LINES} lines.`);
}
