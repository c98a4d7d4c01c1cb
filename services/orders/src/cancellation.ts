import type { Order as OrderView } from '@bazaar/contracts';
import {
  AppError,
  assertOwnerOrAdmin,
  type Clock,
  type EventWriter,
  type Principals,
  withTransaction,
} from '@bazaar/kit';
import type pg from 'pg';
import { isUuid } from './domain/ids.ts';
import type { SagaRunner } from './saga/runner.ts';
import { publishOrderEvents } from './store/order-events.ts';
import { loadOrder, saveOrder } from './store/orders.ts';

/** What a cancellation needs. */
export interface CancellationDeps {
  db: pg.Pool;
  events: EventWriter;
  runner: SagaRunner;
  clock: Clock;
  /** How long the request waits for compensation to finish before answering 202. */
  waitMs: number;
}

/**
 * `POST /api/orders/:id/cancel` by the owner or an admin: the saga is told to stop and undo what it
 * did (a confirmed order is refunded and its stock returned), then driven here for up to `waitMs`.
 * 200 with the cancelled order, or 202 while compensation still runs; 409 if already cancelled.
 */
export async function cancelOrder(
  deps: CancellationDeps,
  caller: Principals,
  orderId: string,
): Promise<{ status: 200 | 202; order: OrderView }> {
  if (!isUuid(orderId)) throw notFound();
  await withTransaction(deps.db, async (tx) => {
    const stored = await loadOrder(tx, orderId, { lock: true });
    if (!stored) throw notFound();
    assertOwnerOrAdmin(caller, stored.order.customerId, 'ORDER_NOT_FOUND', 'No such order.');
    const result = stored.order.requestCancel(deps.clock.now());
    if (result === 'already-cancelled') {
      throw new AppError('ALREADY_CANCELLED', 'This order is already cancelled.');
    }
    if (result === 'requested') {
      await saveOrder(tx, stored.order, stored.version);
      await publishOrderEvents(deps.events, tx, orderId, stored.order.pullEvents());
    }
  });
  await deps.runner.driveFor(orderId, deps.waitMs);
  const stored = await loadOrder(deps.db, orderId);
  if (!stored) throw notFound();
  return { status: stored.order.settled ? 200 : 202, order: stored.order.toView() };
}

function notFound(): AppError {
  return new AppError('ORDER_NOT_FOUND', 'No such order.');
}
