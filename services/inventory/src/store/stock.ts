import { Events } from '@bazaar/contracts';
import { type EventWriter, type Queryable, withTransaction } from '@bazaar/kit';
import type pg from 'pg';
import { adjustmentTo, deltaOf, type MovementKind, type StockLevels } from '../domain/stock.ts';

/** What the transactional store functions need: the pool, and the outbox writer for their events. */
export interface StoreDeps {
  db: pg.Pool;
  events: EventWriter;
}

/** One movement of one product's stock, as the ledger records it. */
export interface Movement {
  productId: string;
  /** Null only for an adjustment. */
  orderId: string | null;
  kind: MovementKind;
  /** Signed for an adjustment, positive otherwise. */
  quantity: number;
}

/** A product's counters, or null when it never had stock. */
export async function findStock(db: Queryable, productId: string): Promise<StockLevels | null> {
  const { rows } = await db.query<StockLevels>(
    'SELECT available, reserved, sold FROM stock WHERE product_id = $1',
    [productId],
  );
  return rows[0] ?? null;
}

/**
 * Applies `movement` to its stock row inside `tx`: the counters change only when none would go
 * below zero (so two concurrent reservations can never sell the same unit: the second waits for
 * the first's row lock and then sees what is left), the revision grows and a ledger row is written,
 * in one statement; when `available` moved, `inventory.stock-changed` is published, all in the
 * caller's transaction (a commit moves reserved units to sold and leaves `available`, the event's
 * only figure, as it was: it announces nothing). Answers false, changing nothing, when the row is
 * missing or short.
 */
export async function applyMovement(
  tx: Queryable,
  events: EventWriter,
  movement: Movement,
): Promise<boolean> {
  const delta = deltaOf(movement.kind, movement.quantity);
  const { rows } = await tx.query<{ available: number; revision: string }>(
    `WITH moved AS (
       UPDATE stock
          SET available = available + $2, reserved = reserved + $3, sold = sold + $4,
              revision = revision + 1, updated_at = now()
        WHERE product_id = $1 AND available + $2 >= 0 AND reserved + $3 >= 0 AND sold + $4 >= 0
        RETURNING available, revision),
     ledger AS (
       INSERT INTO stock_ledger (product_id, order_id, kind, quantity, revision)
       SELECT $1, $5::text, $6::text, $7::int, revision FROM moved)
     SELECT available, revision FROM moved`,
    [
      movement.productId,
      delta.available,
      delta.reserved,
      delta.sold,
      movement.orderId,
      movement.kind,
      movement.quantity,
    ],
  );
  const row = rows[0];
  if (!row) return false;
  if (delta.available !== 0) {
    await events.publish(tx, Events.stockChanged, movement.productId, {
      productId: movement.productId,
      available: row.available,
      revision: Number(row.revision),
    });
  }
  return true;
}

/**
 * Like `applyMovement`, for movements the state of a reservation guarantees (a release of what it
 * holds, a commit, a return): a refusal there means the stock row and the reservations disagree,
 * so the transaction must not commit.
 */
export async function applyHeldMovement(
  tx: Queryable,
  events: EventWriter,
  movement: Movement,
): Promise<void> {
  if (!(await applyMovement(tx, events, movement))) {
    throw new Error(
      `stock of ${movement.productId} cannot take the ${movement.kind} of ${movement.quantity} for order ${movement.orderId}`,
    );
  }
}

/**
 * The answer of setting onHand: the counters now and the signed change of onHand, or a refusal
 * because reservations hold more (the counters as they stay).
 */
export type OnHandResult =
  | { levels: StockLevels; change: number }
  | { refused: 'BELOW_RESERVED'; levels: StockLevels };

/**
 * Sets a product's onHand (available + reserved) to `onHand`, creating its stock row on first use.
 * The difference is one `adjustment` movement; setting the same value again moves nothing.
 */
export async function setOnHand(deps: StoreDeps, productId: string, onHand: number): Promise<OnHandResult> {
  return withTransaction(deps.db, async (tx) => {
    await tx.query('INSERT INTO stock (product_id) VALUES ($1) ON CONFLICT (product_id) DO NOTHING', [
      productId,
    ]);
    const { rows } = await tx.query<StockLevels>(
      'SELECT available, reserved, sold FROM stock WHERE product_id = $1 FOR UPDATE',
      [productId],
    );
    const levels = rows[0]!;
    const change = adjustmentTo(levels, onHand);
    if (change === 'below-reserved') return { refused: 'BELOW_RESERVED', levels };
    if (change !== 0) {
      await applyHeldMovement(tx, deps.events, {
        productId,
        orderId: null,
        kind: 'adjustment',
        quantity: change,
      });
    }
    return { levels: { ...levels, available: levels.available + change }, change };
  });
}
