import { Events } from '@bazaar/contracts';
import type { EventWriter, Queryable } from '@bazaar/kit';
import type { Order } from '../domain/order.ts';

/** Publishes the events the order recorded, in the transaction that stores its change (outbox). */
export async function publishOrderEvents(events: EventWriter, tx: Queryable, order: Order): Promise<void> {
  for (const event of order.pullEvents()) {
    if (event.type === 'order-confirmed')
      await events.publish(tx, Events.orderConfirmed, order.id, event.data);
    else await events.publish(tx, Events.orderCancelled, order.id, event.data);
  }
}
