import type { EventEnvelope, StockChangedEvent } from '@bazaar/contracts';
import { recordAvailability } from './store/availability.ts';
import type { Queryable } from './store/db.ts';

/**
 * Consumer of `inventory.stock-changed`: keeps the product's `available`, as of the event, when the
 * event's revision is newer than the one kept (a late, older one changes nothing), and announces
 * the change so every instance drops its cached copy (one statement does both). The kit has
 * checked the data against the declared version before this runs (malformed data goes to the dead
 * letters).
 */
export async function keepAvailability(event: EventEnvelope, tx: Queryable): Promise<void> {
  const { productId, available, revision } = event.data as StockChangedEvent;
  await recordAvailability(tx, { productId, available, revision, asOf: event.occurredAt });
}
