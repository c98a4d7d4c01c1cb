/**
 * The shop's invariant checker (QUALITY.md I1–I7): reads every service's own database and counts
 * the violations of each invariant. Chaos and load tests end by calling it and printing its report.
 * It reads tables directly — a test's privilege, never a service's.
 */
import pg from 'pg';

/** Where each database is (a URL per service database). */
export interface ShopDatabases {
  orders: string;
  inventory: string;
  payments: string;
  /** Every database with a kit outbox, by service (I4: the outbox drains). */
  outboxes: Record<string, string>;
}

/** One invariant's result: how many violations, and a few of them described. */
export interface InvariantResult {
  id: string;
  title: string;
  violations: number;
  examples: string[];
}

/** What to check beyond the databases. */
export interface CheckOptions {
  /** Ids of orders a client was answered 2xx for (I4: each must exist). */
  acknowledgedOrders?: string[];
  /** I3 counts PENDING orders older than this (default 30 s). */
  pendingBoundMs?: number;
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface OrderRow {
  id: string;
  status: string;
  total: string;
  cancel_reason: string | null;
  age_ms: string;
}

interface PaymentRow {
  order_id: string;
  status: string;
  authorized: string | null;
  captured: string | null;
  voided: string | null;
  refunded: string | null;
}

/** Checks I1–I7 and answers one result per invariant (I6 is HTTP-level: asserted by the tests). */
export async function checkInvariants(
  db: ShopDatabases,
  options: CheckOptions = {},
): Promise<InvariantResult[]> {
  const bound = options.pendingBoundMs ?? 30_000;
  const orders = await query<OrderRow>(
    db.orders,
    `SELECT id::text, status, total::text, cancel_reason,
            (extract(epoch FROM now() - created_at) * 1000)::bigint::text AS age_ms
       FROM orders`,
  );
  const lines = await query<{ order_id: string; product_id: string; quantity: number }>(
    db.orders,
    'SELECT order_id::text, product_id, quantity FROM order_lines',
  );
  const payments = await query<PaymentRow>(
    db.payments,
    `SELECT p.order_id, p.status,
            sum(l.amount) FILTER (WHERE l.kind = 'authorize')::text AS authorized,
            sum(l.amount) FILTER (WHERE l.kind = 'capture')::text AS captured,
            sum(l.amount) FILTER (WHERE l.kind = 'void')::text AS voided,
            sum(l.amount) FILTER (WHERE l.kind = 'refund')::text AS refunded
       FROM payments p LEFT JOIN payment_ledger l ON l.order_id = p.order_id
      GROUP BY p.order_id, p.status`,
  );
  // The provider's own side: holds made per order, and holds released.
  const provider = await query<{ order_id: string; authorized: string; settled: string }>(
    db.payments,
    `SELECT split_part(idempotency_key, ':', 1) AS order_id,
            count(*) FILTER (WHERE operation = 'authorize' AND outcome = 'authorized')::text AS authorized,
            count(*) FILTER (WHERE operation IN ('void', 'capture'))::text AS settled
       FROM provider_operations GROUP BY 1`,
  );
  const reservations = await query<{ order_id: string; status: string }>(
    db.inventory,
    'SELECT order_id, status FROM reservations',
  );
  const ledgerPairs = await query<{ order_id: string; kind: string; n: string }>(
    db.inventory,
    `SELECT order_id, kind, count(DISTINCT product_id)::text AS n FROM stock_ledger
      WHERE order_id IS NOT NULL GROUP BY order_id, kind`,
  );

  const results: InvariantResult[] = [];
  const result = (id: string, title: string, problems: string[]) =>
    results.push({ id, title, violations: problems.length, examples: problems.slice(0, 5) });
  const orderById = new Map(orders.map((o) => [o.id, o]));
  const paymentByOrder = new Map(payments.map((p) => [p.order_id, p]));
  const providerByOrder = new Map(provider.map((p) => [p.order_id, p]));
  const reservationByOrder = new Map(reservations.map((r) => [r.order_id, r]));

  // I1: no double charge.
  const i1: string[] = [];
  for (const p of provider) {
    if (Number(p.authorized) > 1) i1.push(`${p.order_id}: ${p.authorized} holds at the provider`);
  }
  for (const o of orders) {
    const p = paymentByOrder.get(o.id);
    const n = (v: string | null | undefined) => Number(v ?? 0);
    const held = providerByOrder.get(o.id);
    if (o.status === 'CONFIRMED') {
      if (!p || n(p.captured) !== Number(o.total) || n(p.refunded) !== 0)
        i1.push(
          `${o.id}: CONFIRMED for ${o.total} but captured ${p?.captured ?? 0}, refunded ${p?.refunded ?? 0}`,
        );
    } else if (o.status === 'CANCELLED') {
      const net = p ? n(p.authorized) - n(p.voided) - n(p.refunded) : 0;
      if (net !== 0) i1.push(`${o.id}: CANCELLED but ${net} still held or taken (${p?.status})`);
      else if (held && Number(held.authorized) > 0 && Number(held.settled) === 0)
        i1.push(`${o.id}: CANCELLED but a hold at the provider was never released`);
    }
  }
  result('I1', 'no double charge', i1);

  // I2: no oversell — the stock counters agree with the ledger and the reservations.
  const stock = await query<{
    product_id: string;
    available: number;
    reserved: number;
    sold: number;
    problem: string;
  }>(
    db.inventory,
    `WITH moved AS (
       SELECT product_id,
              coalesce(sum(quantity) FILTER (WHERE kind = 'adjustment'), 0) AS adjusted,
              coalesce(sum(quantity) FILTER (WHERE kind = 'reserve'), 0) AS reserve,
              coalesce(sum(quantity) FILTER (WHERE kind = 'release'), 0) AS release,
              coalesce(sum(quantity) FILTER (WHERE kind = 'expire'), 0) AS expire,
              coalesce(sum(quantity) FILTER (WHERE kind = 'commit'), 0) AS commit,
              coalesce(sum(quantity) FILTER (WHERE kind = 'return'), 0) AS back
         FROM stock_ledger GROUP BY product_id
     ), holding AS (
       SELECT l.product_id,
              coalesce(sum(l.quantity) FILTER (WHERE r.status = 'RESERVED'), 0) AS held,
              coalesce(sum(l.quantity) FILTER (WHERE r.status = 'COMMITTED'), 0) AS committed
         FROM reservation_lines l JOIN reservations r USING (order_id) GROUP BY l.product_id
     )
     SELECT s.product_id, s.available, s.reserved, s.sold,
            concat_ws('; ',
              CASE WHEN s.available < 0 OR s.reserved < 0 OR s.sold < 0 THEN 'a negative counter' END,
              CASE WHEN coalesce(m.adjusted, 0) <> s.available + s.reserved + s.sold
                   THEN 'initial + adjustments <> available + reserved + sold' END,
              CASE WHEN s.reserved <> coalesce(m.reserve - m.release - m.expire - m.commit, 0)
                   THEN 'reserved disagrees with the ledger' END,
              CASE WHEN s.sold <> coalesce(m.commit - m.back, 0) THEN 'sold disagrees with the ledger' END,
              CASE WHEN s.reserved <> coalesce(h.held, 0) THEN 'reserved disagrees with open reservations' END,
              CASE WHEN s.sold <> coalesce(h.committed, 0) THEN 'sold disagrees with committed reservations' END
            ) AS problem
       FROM stock s
       LEFT JOIN moved m USING (product_id)
       LEFT JOIN holding h USING (product_id)`,
  );
  const i2 = stock.filter((s) => s.problem !== '').map((s) => `${s.product_id}: ${s.problem}`);
  // Sold according to orders: every CONFIRMED order's lines are committed, nothing else is.
  for (const o of orders) {
    const r = reservationByOrder.get(o.id);
    if (o.status === 'CONFIRMED' && r?.status !== 'COMMITTED')
      i2.push(`${o.id}: CONFIRMED but its reservation is ${r?.status ?? 'missing'}`);
    if (o.status === 'CANCELLED' && (r?.status === 'RESERVED' || r?.status === 'COMMITTED'))
      i2.push(`${o.id}: CANCELLED but its stock is still ${r.status}`);
  }
  result('I2', 'no oversell', i2);

  // I3: every order settles.
  const i3 = orders
    .filter((o) => o.status === 'PENDING' && Number(o.age_ms) > bound)
    .map((o) => `${o.id}: PENDING for ${Math.round(Number(o.age_ms) / 1000)} s`);
  result('I3', `every order CONFIRMED or CANCELLED within ${bound / 1000} s`, i3);

  // I4: no acknowledged write lost; every outbox drains.
  const i4 = (options.acknowledgedOrders ?? [])
    .filter((id) => !orderById.has(id))
    .map((id) => `${id}: answered 2xx but not in orders`);
  for (const [service, url] of Object.entries(db.outboxes)) {
    const [row] = await query<{ n: string }>(
      url,
      'SELECT count(*)::text AS n FROM kit_outbox WHERE sent_at IS NULL',
    );
    if (Number(row?.n) > 0) i4.push(`${service}: ${row?.n} events not yet sent`);
  }
  result('I4', 'no acknowledged write lost; outboxes drained', i4);

  // I5: exactly-once effects — each order's reservation lines are reserved, committed, returned once.
  const i5 = ledgerPairs
    .filter((p) => {
      const lineCount = lines.filter((l) => l.order_id === p.order_id).length;
      return lineCount > 0 && Number(p.n) > lineCount;
    })
    .map((p) => `${p.order_id}: ${p.kind} moved ${p.n} products for fewer lines`);
  result('I5', 'exactly-once effects', i5);

  // I7: compensation once, and only for a step that happened.
  const kinds = new Map<string, Set<string>>();
  for (const p of ledgerPairs) {
    if (!kinds.has(p.order_id)) kinds.set(p.order_id, new Set());
    kinds.get(p.order_id)!.add(p.kind);
  }
  const i7: string[] = [];
  for (const [orderId, done] of kinds) {
    if ((done.has('release') || done.has('expire') || done.has('commit')) && !done.has('reserve'))
      i7.push(`${orderId}: stock released or committed without a reservation`);
    if (done.has('return') && !done.has('commit')) i7.push(`${orderId}: stock returned that was never sold`);
    if (done.has('release') && done.has('commit') && !done.has('return'))
      i7.push(`${orderId}: both released and committed`);
  }
  for (const p of payments) {
    if (p.voided && !p.authorized) i7.push(`${p.order_id}: voided without an authorization`);
    if (p.refunded && !p.captured) i7.push(`${p.order_id}: refunded without a capture`);
    if (p.voided && p.captured) i7.push(`${p.order_id}: both voided and captured`);
  }
  result('I7', 'compensation once, only for a step that happened', i7);
  return results;
}

/** The report's text: one line per invariant with its count of violations, and examples. */
export function formatInvariants(results: InvariantResult[]): string {
  return results
    .map(
      (r) =>
        `${r.id} ${r.title}: ${r.violations} violation${r.violations === 1 ? '' : 's'}` +
        r.examples.map((e) => `\n    ${e}`).join(''),
    )
    .join('\n');
}
