import { Events } from '@bazaar/contracts';
import type { EventWriter, Queryable } from '@bazaar/kit';
import type { OrderEvent } from '../domain/order.ts';

/**
 * Publishes the events an order recorded (`order.pullEvents()`), in the transaction that stores its
 * change (outbox).
 */
export async function publishOrderEvents(
  events: EventWriter,
  tx: Queryable,
  orderId: string,
  recorded: readonly OrderEvent[],
): Promise<void> {
  for (const event of recorded) {
    if (event.type === 'order-confirmed')
      await events.publish(tx, Events.orderConfirmed, orderId, event.data);
    else await events.publish(tx, Events.orderCancelled, orderId, event.data);
  }
}
