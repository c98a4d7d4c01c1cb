import type { Queryable } from '@bazaar/kit';

/**
 * Invariant I2 for inventory's tables, as the shop's invariant checker reads them: per product
 * `available`, `reserved`, `sold` ≥ 0; each counter equals what the ledger moved into it
 * (available = Σadjustment − Σreserve + Σrelease + Σexpire + Σreturn; reserved = Σreserve −
 * Σrelease − Σexpire − Σcommit; sold = Σcommit − Σreturn; hence Σadjustment = available + reserved
 * + sold); and what reservations hold agrees (reserved = lines of RESERVED reservations, sold =
 * lines of COMMITTED ones). Answers one message per violation: none when all hold.
 */
export async function ledgerViolations(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{
    product_id: string;
    available: number;
    reserved: number;
    sold: number;
    adjusted: string;
    reserved_total: string;
    released: string;
    expired: string;
    committed_total: string;
    returned: string;
    held: string;
    committed: string;
  }>(
    `WITH moved AS (
       SELECT product_id,
              sum(quantity) FILTER (WHERE kind = 'adjustment') AS adjusted,
              sum(quantity) FILTER (WHERE kind = 'reserve') AS reserved_total,
              sum(quantity) FILTER (WHERE kind = 'release') AS released,
              sum(quantity) FILTER (WHERE kind = 'expire') AS expired,
              sum(quantity) FILTER (WHERE kind = 'commit') AS committed_total,
              sum(quantity) FILTER (WHERE kind = 'return') AS returned
         FROM stock_ledger GROUP BY product_id
     ), holding AS (
       SELECT l.product_id,
              sum(l.quantity) FILTER (WHERE r.status = 'RESERVED') AS held,
              sum(l.quantity) FILTER (WHERE r.status = 'COMMITTED') AS committed
         FROM reservation_lines l JOIN reservations r USING (order_id) GROUP BY l.product_id
     )
     SELECT coalesce(s.product_id, m.product_id, h.product_id) AS product_id,
            s.available, s.reserved, s.sold,
            coalesce(m.adjusted, 0) AS adjusted, coalesce(m.reserved_total, 0) AS reserved_total,
            coalesce(m.released, 0) AS released, coalesce(m.expired, 0) AS expired,
            coalesce(m.committed_total, 0) AS committed_total, coalesce(m.returned, 0) AS returned,
            coalesce(h.held, 0) AS held, coalesce(h.committed, 0) AS committed
       FROM stock s
       FULL JOIN moved m ON m.product_id = s.product_id
       FULL JOIN holding h ON h.product_id = coalesce(s.product_id, m.product_id)`,
  );
  const violations: string[] = [];
  for (const r of rows) {
    const id = r.product_id;
    if (r.available === null) {
      violations.push(`${id}: ledger rows or reservation lines without a stock row`);
      continue;
    }
    const [adjustment, reserve, release, expire, commit, back, held, committed] = [
      r.adjusted,
      r.reserved_total,
      r.released,
      r.expired,
      r.committed_total,
      r.returned,
      r.held,
      r.committed,
    ].map(Number) as [number, number, number, number, number, number, number, number];
    const expect = (what: string, actual: number, wanted: number) => {
      if (actual !== wanted) violations.push(`${id}: ${what} is ${actual}, the ledger says ${wanted}`);
    };
    for (const [name, value] of [
      ['available', r.available],
      ['reserved', r.reserved],
      ['sold', r.sold],
    ] as const) {
      if (value < 0) violations.push(`${id}: ${name} is ${value}`);
    }
    expect('available', r.available, adjustment - reserve + release + expire + back);
    expect('reserved', r.reserved, reserve - release - expire - commit);
    expect('sold', r.sold, commit - back);
    expect('available + reserved + sold', r.available + r.reserved + r.sold, adjustment);
    expect('reserved (by RESERVED reservations)', r.reserved, held);
    expect('sold (by COMMITTED reservations)', r.sold, committed);
  }
  return violations;
}
