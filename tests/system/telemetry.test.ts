/**
 * Traces on real processes: every instance exports its spans over OTLP to the gateway's embedded
 * collector (`bazaar up` wires it), and the ops API shows them. One checkout is one trace from the
 * gateway through orders, inventory, payments and the cart's event consumer; errors are kept even
 * when their trace is not sampled; new traces are sampled as shipped, or as the config center says.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { OpsSpan, OpsTrace, OpsTraceList, Order, Product } from '@bazaar/contracts';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api, login, signUp } from '../security/support.ts';
import { configCenter } from './config-support.ts';
import { ADDRESS, putInCart, settledOrder, stockedProduct } from './shop-support.ts';
import { setChaos, startTestSystem } from './support.ts';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let merchant: Account;
let admin: Account;

before(async () => {
  handle = await startTestSystem();
  system = handle.system;
  merchant = await signUp(system, 'merchant', 'merchant');
  const bootstrap = system.bootstrapUsers!.users.admin;
  admin = await login(system, bootstrap.email, bootstrap.password);
});
after(async () => {
  await handle?.stop();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The collector's spans of one trace, or none yet. */
async function spansOf(traceId: string): Promise<OpsSpan[]> {
  const res = await api(system, 'GET', `/api/ops/traces/${traceId}`, { token: admin.accessToken });
  if (res.status === 404) return [];
  assert.equal(res.status, 200, res.text);
  return (res.body as unknown as OpsTrace).spans;
}

/** Polls the collector (spans come in batches, each process's every second) until `done` holds. */
async function pollTrace(traceId: string, done: (spans: OpsSpan[]) => boolean): Promise<OpsSpan[]> {
  const until = Date.now() + 15_000;
  let spans = await spansOf(traceId);
  while (!done(spans) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    spans = await spansOf(traceId);
  }
  return spans;
}

/** Spans whose parent is not in the trace. */
const orphans = (spans: OpsSpan[]) => {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => s.parentSpanId === null || !ids.has(s.parentSpanId));
};
const describe = (spans: OpsSpan[]) =>
  spans.map((s) => `${s.service}:${s.kind}:${s.name}:${s.spanId}<-${s.parentSpanId}`).join('\n  ');

test("one checkout is one trace through the gateway, orders, inventory, payments and the cart's consumer", async () => {
  const customer = await signUp(system, 'traced', 'customer');
  const product: Product = await stockedProduct(system, merchant, {
    price: 1500,
    stock: 5,
    name: 'Traced mug',
  });
  await putInCart(system, customer, product.id, 2);
  const traceId = hex(16);
  const caller = hex(8);
  const res = await api(system, 'POST', '/api/orders', {
    token: customer.accessToken,
    headers: { 'idempotency-key': crypto.randomUUID(), traceparent: `00-${traceId}-${caller}-01` },
    body: { paymentToken: 'tok_visa', shippingAddress: ADDRESS },
  });
  assert.ok([201, 202].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
  const order = await settledOrder(system, customer, (res.body as unknown as Order).id);
  assert.equal(order.status, 'CONFIRMED');

  const wanted = ['gateway', 'orders', 'inventory', 'payments', 'cart'];
  const cartConsumer = (s: OpsSpan) => s.service === 'cart' && s.kind === 'consumer';
  const spans = await pollTrace(
    traceId,
    (got) =>
      wanted.every((service) => got.some((s) => s.service === service)) &&
      got.some(cartConsumer) &&
      orphans(got).length === 1,
  );
  const report = describe(spans);
  for (const service of wanted) {
    assert.ok(
      spans.some((s) => s.service === service),
      `a span of ${service} in the trace:\n  ${report}`,
    );
  }
  assert.ok(spans.every((s) => s.traceId === traceId));
  const consumer = spans.find(cartConsumer);
  assert.equal(consumer?.name, 'process orders.order-confirmed', report);
  const roots = orphans(spans);
  assert.equal(roots.length, 1, `every span's parent is in the trace but the root's:\n  ${report}`);
  const root = roots[0]!;
  assert.deepEqual(
    [root.service, root.kind, root.name, root.parentSpanId],
    ['gateway', 'server', 'POST /api/orders', caller],
    'the root is the gateway’s server span, under the caller’s span',
  );
  // The gateway's access log line names the same trace and span.
  const access = (await readFile(join(system.logDir, 'gateway-1.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.includes(traceId))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'access');
  assert.deepEqual([access?.traceId, access?.spanId], [traceId, root.spanId]);
  const kinds = new Set(spans.map((s) => s.kind));
  for (const kind of ['server', 'client', 'producer', 'consumer'] as const) assert.ok(kinds.has(kind), kind);
  assert.ok(spans.some((s) => s.name === 'db.transaction' && s.service === 'inventory'));

  const found = await api(system, 'GET', `/api/ops/traces?traceId=${traceId}`, { token: admin.accessToken });
  assert.equal(found.status, 200, found.text);
  const [summary] = (found.body as unknown as OpsTraceList).items;
  assert.equal(summary?.service, 'gateway');
  assert.equal(summary?.route, '/api/orders');
  assert.equal(summary?.httpStatus, res.status);
  assert.equal(summary?.error, false);
  assert.deepEqual(summary?.services, [...new Set(spans.map((s) => s.service))].sort());
});

test('the error spans of an unsampled trace are kept, and nothing of an unsampled trace that went well', async () => {
  const product = await stockedProduct(system, merchant, { name: 'Unsampled lamp' });
  const good = hex(16);
  const ok = await api(system, 'GET', `/api/products/${product.id}`, {
    headers: { traceparent: `00-${good}-${hex(8)}-00` },
  });
  assert.equal(ok.status, 200, ok.text);

  const credential = system.credentials.catalog!;
  const catalogs = system.instances.filter((i) => i.service === 'catalog');
  await Promise.all(catalogs.map((i) => setChaos(i.url!, credential, { errorRate: 1 })));
  const failing = hex(16);
  try {
    const res = await api(system, 'GET', `/api/products/${product.id}`, {
      headers: { traceparent: `00-${failing}-${hex(8)}-00` },
    });
    assert.ok(res.status >= 500, `the read failed: ${res.status}`);
  } finally {
    await Promise.all(catalogs.map((i) => setChaos(i.url!, credential, {})));
  }
  const spans = await pollTrace(
    failing,
    (got) =>
      got.some((s) => s.service === 'gateway' && s.kind === 'server') &&
      got.some((s) => s.service === 'catalog'),
  );
  const report = describe(spans);
  assert.ok(
    spans.some((s) => s.service === 'gateway' && s.kind === 'server'),
    `the gateway's failed request is kept:\n  ${report}`,
  );
  assert.ok(
    spans.some((s) => s.service === 'catalog' && s.kind === 'server'),
    report,
  );
  assert.ok(
    spans.every((s) => s.status === 'error'),
    `only error spans are kept:\n  ${report}`,
  );
  // The good request's spans ended before the failing one's in the same processes, and batches
  // go in order: had they been exported, they would be here by now.
  assert.deepEqual(await spansOf(good), []);
});

test("new traces are sampled as shipped (every one while it is quiet, a bounded number of a burst), and the config center's tracing changes that without a restart", async () => {
  const product = await stockedProduct(system, merchant, { name: 'Sampled lamp' });
  const config = configCenter(system, admin);
  /** Product reads started after `since` whose trace the collector kept, once their batches came. */
  const keptSince = async (since: number) => {
    await new Promise((r) => setTimeout(r, 2_500));
    const res = await api(system, 'GET', '/api/ops/traces?service=gateway&limit=100', {
      token: admin.accessToken,
    });
    assert.equal(res.status, 200, res.text);
    return (res.body as unknown as OpsTraceList).items.filter(
      (t) =>
        t.name.startsWith('GET ') && t.route?.startsWith('/api/products') && Date.parse(t.startTime) >= since,
    ).length;
  };
  const reads = (n: number) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const res = await api(system, 'GET', `/api/products/${product.id}`);
        assert.equal(res.status, 200, res.text);
      }),
    );

  // As shipped: 1 % of new traces plus up to 10 a second (one gateway here).
  let since = Date.now();
  for (let i = 0; i < 3; i++) await reads(1);
  assert.equal(await keptSince(since), 3, 'a few reads: every trace is kept');
  since = Date.now();
  await reads(60);
  const kept = await keptSince(since);
  assert.ok(
    kept >= 10 && kept <= 25,
    `a burst of 60 reads (within two seconds) keeps 10 to 25 traces: ${kept}`,
  );

  // Changed through the config center, without a restart: a burst of reads, and how many are kept.
  const changes = [
    {
      tracing: { sampleRatio: 1, samplesPerSecond: 0 },
      reason: 'incident: every trace',
      burst: 30,
      kept: 30,
    },
    { tracing: { sampleRatio: 0, samplesPerSecond: 0 }, reason: 'no new traces', burst: 5, kept: 0 },
    {
      tracing: { enabled: false, sampleRatio: 1, samplesPerSecond: 0 },
      reason: 'tracing off',
      burst: 5,
      kept: 0,
    },
  ];
  try {
    for (const change of changes) {
      await config.changeApplied('gateway', { tracing: change.tracing }, change.reason);
      since = Date.now();
      await reads(change.burst);
      assert.equal(
        await keptSince(since),
        change.kept,
        `${change.reason}: ${change.kept} of ${change.burst} kept`,
      );
    }
  } finally {
    await config.changeApplied('gateway', {}, 'back to the defaults');
  }
});
