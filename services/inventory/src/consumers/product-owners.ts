import { type EventEnvelope, Events, type ProductChangedEvent } from '@bazaar/contracts';
import type { ConsumerDefinition } from '@bazaar/kit';
import type pg from 'pg';
import { productKey } from '../domain/reservation.ts';
import { recordOwner } from '../store/owners.ts';

/**
 * Learns who owns each product from `catalog.product-changed`, so a merchant's stock change is
 * checked here without asking catalog. Events carry no product revision: the newest `occurredAt`
 * wins, so a late, older event leaves a newer owner alone.
 */
export const productOwners: ConsumerDefinition = {
  name: 'owners',
  events: [Events.productChanged],
  handle: recordProductOwner,
};

/** The consumer's effect, inside the kit's inbox transaction `tx`. */
export async function recordProductOwner(event: EventEnvelope, tx: pg.PoolClient): Promise<void> {
  // The kit has checked the data against the declared version before this runs.
  const data = event.data as ProductChangedEvent;
  await recordOwner(tx, {
    productId: productKey(data.productId),
    merchantId: data.merchantId,
    asOf: new Date(event.occurredAt),
  });
}
