import { isUuid } from '../domain/ids.ts';
import { PRODUCT_CHANGED_CHANNEL } from './change-notices.ts';
import type { Queryable } from './db.ts';

/** What inventory said of one product's stock, and when. */
export interface AvailabilityReport {
  productId: string;
  available: number;
  /** Grows with every stock movement of the product: orders reports that arrive out of order. */
  revision: number;
  /** When inventory saw it (the event's `occurredAt`), shown to shoppers as `availableAsOf`. */
  asOf: string;
}

/**
 * Keeps `report` on its product when its revision is newer than the one kept, and announces the
 * change on the product-changed channel, in one statement; a late, older report (or one about an
 * unknown product) changes nothing and announces nothing. True when the product changed.
 */
export async function recordAvailability(db: Queryable, report: AvailabilityReport): Promise<boolean> {
  if (!isUuid(report.productId)) return false;
  const { rowCount } = await db.query(
    `WITH changed AS (
       UPDATE products
       SET available = $2, available_as_of = $3::timestamptz, available_revision = $4
       WHERE id = $1 AND (available_revision IS NULL OR available_revision < $4)
       RETURNING id)
     SELECT pg_notify($5, id::text) FROM changed`,
    [report.productId, report.available, report.asOf, report.revision, PRODUCT_CHANGED_CHANNEL],
  );
  return (rowCount ?? 0) > 0;
}
