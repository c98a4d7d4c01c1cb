/**
 * The config center on real processes: an admin changes payments' simulator through the gateway,
 * the registry pushes it, payments applies it without a restart, and checkouts show it; history,
 * rollback (through `bazaar config`), refusals of bad values and stale versions; orders' circuit to
 * payments opened by provider errors, and checkout refused at once with 503 and Retry-After; an
 * instance that cannot apply a version keeps its old one and says so. One system, tests in order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type {
  ConfigDocument,
  ConfigHistory,
  OpsAlert,
  OpsAlertList,
  Order,
  Product,
} from '@bazaar/contracts';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api, login, signUp } from '../security/support.ts';
import { configCenter } from './config-support.ts';
import { checkout, putInCart, settledOrder, stockedProduct, stockOf } from './shop-support.ts';
import { assertInvariants, eventually, startTestSystem } from './support.ts';

/** A card that is not one of the three test cards: the simulator's `declineRate` decides it. */
const PLAIN_CARD = 'tok_mastercard';

let handle: Awaited<ReturnType<typeof startTestSystem>>;
let system: System;
let admin: Account;
let merchant: Account;
let product: Product;
let ops: ConfigCenter['ops'];
let current: ConfigCenter['current'];
let change: ConfigCenter['change'];
let applied: ConfigCenter['applied'];
let appliedEverywhere: ConfigCenter['appliedEverywhere'];
type ConfigCenter = ReturnType<typeof configCenter>;

before(async () => {
  // Alerts are evaluated on 0.5 s scrapes with every window and `for` at 2 % of its length
  // (the decline-rate rule's 5 min window becomes 6 s, its 2 min `for` 2.4 s).
  handle = await startTestSystem({
    serviceEnv: { gateway: { BAZAAR_OPS_SCRAPE_MS: '500', BAZAAR_ALERT_TIME_SCALE: '0.02' } },
  });
  system = handle.system;
  const { email, password } = system.bootstrapUsers!.users.admin;
  admin = await login(system, email, password);
  ({ ops, current, change, applied, appliedEverywhere } = configCenter(system, admin));
  merchant = await signUp(system, 'config-merchant', 'merchant');
  product = await stockedProduct(system, merchant, { price: 1500, stock: 500, name: 'Config mug' });
});
after(async () => {
  await handle?.stop();
});

/** A new customer with one config mug in the cart. */
async function shopper(): Promise<Account> {
  const customer = await signUp(system, 'config-shopper', 'customer');
  await putInCart(system, customer, product.id, 1);
  return customer;
}

async function checkedOut(customer: Account, paymentToken = PLAIN_CARD): Promise<Order> {
  const res = await checkout(system, customer, { paymentToken });
  assert.ok([201, 202].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
  return settledOrder(system, customer, (res.body as unknown as Order).id);
}

/** Runs `bazaar config …` against this system, as an operator would. */
function bazaarConfig(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const main = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [main, 'config', ...args, '--gateway', system.gatewayUrl, '--data-dir', system.dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const DECLINE_ALERT = 'BazaarHighPaymentDeclineRate';

async function declineAlert(): Promise<OpsAlert | undefined> {
  const res = await ops('GET', '/api/ops/alerts');
  assert.equal(res.status, 200, res.text);
  return (res.body as unknown as OpsAlertList).items.find((a) => a.name === DECLINE_ALERT);
}

/** Checks out with `card` again and again until the decline-rate alert is as wanted (30 s at most). */
async function whileShopping(card: string, wanted: (alert: OpsAlert | undefined) => boolean) {
  const end = Date.now() + 30_000;
  for (;;) {
    const alert = await declineAlert();
    if (wanted(alert)) return alert;
    if (Date.now() > end) throw new Error(`${DECLINE_ALERT} still ${JSON.stringify(alert)} after 30 s`);
    await checkedOut(await shopper(), card);
  }
}

describe('the payment simulator, changed live', () => {
  let first: ConfigDocument;
  let second: ConfigDocument;

  test('declineRate 1 makes the next checkouts end CANCELLED with PAYMENT_DECLINED', async () => {
    first = await change('payments', { simulator: { declineRate: 1 } }, 'decline drill');
    assert.deepEqual(first.values.simulator, { declineRate: 1, errorRate: 0, latencyMs: 0 });
    // (e) every payments instance says it applied the version, in the ops console's list.
    await appliedEverywhere('payments', first.version);

    for (let i = 0; i < 2; i++) {
      const order = await checkedOut(await shopper());
      assert.equal(order.status, 'CANCELLED');
      assert.equal(order.cancelReason, 'PAYMENT_DECLINED');
      assert.equal(order.declineCode, 'card_declined');
    }
    const visa = await checkedOut(await shopper(), 'tok_visa');
    assert.equal(visa.status, 'CONFIRMED', 'the test cards answer as they always do');

    // The embedded evaluator raises the decline-rate alert while declines go on.
    const firing = await whileShopping(PLAIN_CARD, (alert) => alert?.state === 'firing');
    assert.equal(firing?.labels.service, 'payments');
    assert.ok(firing && firing.value > 0.3, `decline share ${firing?.value}`);
  });

  test('declineRate back to 0: checkouts are CONFIRMED again', async () => {
    second = await change('payments', { simulator: { declineRate: 0 } }, 'back to normal');
    assert.equal(second.version, first.version + 1);
    await appliedEverywhere('payments', second.version);
    const order = await checkedOut(await shopper());
    assert.equal(order.status, 'CONFIRMED');

    // Approved payments only: the share falls under the threshold and the alert clears.
    const cleared = await whileShopping('tok_visa', (alert) => alert === undefined);
    assert.equal(cleared, undefined);
  });

  test('the history shows both changes with their author and reason', async () => {
    const res = await ops('GET', '/api/ops/config/payments/history');
    assert.equal(res.status, 200, res.text);
    const history = res.body as unknown as ConfigHistory;
    assert.deepEqual(
      history.items.slice(0, 2).map((v) => [v.version, v.author, v.reason]),
      [
        [second.version, admin.email, 'back to normal'],
        [first.version, admin.email, 'decline drill'],
      ],
    );

    const cli = await bazaarConfig('history', 'payments');
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /back to normal\s+simulator\.declineRate 1 → 0/);
    assert.match(cli.stdout, /decline drill\s+simulator\.declineRate 0 → 1/);
  });

  test('rollback (with `bazaar config`) restores the first version, as a new version', async () => {
    const rollback = await bazaarConfig(
      'rollback',
      'payments',
      String(first.version),
      '--reason',
      'replay the drill',
    );
    assert.equal(rollback.code, 0, rollback.stderr);
    const now = await current('payments');
    assert.equal(now.version, second.version + 1);
    assert.deepEqual(now.values, first.values);

    const got = await bazaarConfig('get', 'payments');
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), first.values);
    assert.match(got.stderr, new RegExp(`version ${now.version}`));

    await appliedEverywhere('payments', now.version);
    const order = await checkedOut(await shopper());
    assert.equal(order.cancelReason, 'PAYMENT_DECLINED', 'the rolled-back version is in force');
    await appliedEverywhere('payments', (await change('payments', {}, 'drill over')).version);
  });
});

describe('refusals', () => {
  test('an invalid value is refused naming the field, and changes nothing', async () => {
    const before = await current('payments');
    for (const [values, path] of [
      [{ simulator: { declineRate: 2 } }, 'values/simulator/declineRate'],
      [{ simulator: { declineRate: 0.1, chargebackRate: 0.5 } }, 'values/simulator/chargebackRate'],
      [{ simulator: { latencyMs: 'slow' } }, 'values/simulator/latencyMs'],
    ] as const) {
      const res = await ops('PUT', '/api/ops/config/payments', {
        values,
        reason: 'should not pass',
        expectedVersion: before.version,
      });
      assert.equal(res.status, 400, res.text);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        (res.body.errors as { path: string }[]).map((e) => e.path),
        [path],
      );
    }
    const cli = await bazaarConfig('set', 'payments', '-', '--reason', 'typo');
    assert.equal(cli.code, 1, 'standard input is empty: not JSON');
    assert.deepEqual(await current('payments'), before);
    const history = (await ops('GET', '/api/ops/config/payments/history')).body as unknown as ConfigHistory;
    assert.equal(history.items[0]?.version, before.version);
  });

  test('a change on a stale version is 409 and changes nothing', async () => {
    const before = await current('payments');
    const res = await ops('PUT', '/api/ops/config/payments', {
      values: { simulator: { latencyMs: 5 } },
      reason: 'late',
      expectedVersion: before.version - 1,
    });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.code, 'CONFIG_VERSION_CONFLICT');
    assert.deepEqual(await current('payments'), before);
  });

  test('an instance that cannot apply a version keeps the old one and reports why', async () => {
    const kept = await current('gateway');
    // The schema lets "0/s" through; the gateway cannot build a bucket that never fills.
    const broken = await change('gateway', { rateLimits: { perAddress: '0/s' } }, 'a limit that cannot work');
    const reports = await eventually(
      'the gateway reports the refusal',
      () => applied('gateway'),
      (configs) =>
        configs.length > 0 && configs.every((c) => c?.error?.includes(`version ${broken.version}`)),
    );
    for (const report of reports) {
      assert.equal(report?.version, kept.version);
      assert.match(report?.error ?? '', /rateLimits\.perAddress/);
    }
    assert.equal((await api(system, 'GET', '/api/categories')).status, 200, 'requests still pass');
    await appliedEverywhere('gateway', (await change('gateway', {}, 'undo the broken limit')).version);
  });
});

describe('payments down: checkout fails fast', () => {
  test("provider errors open orders' circuit to payments, and checkout then answers 503 at once", async () => {
    // Orders needs three calls in the window to judge payments, so a few checkouts open the circuit.
    const resilience = await change(
      'orders',
      { resilience: { breakerMinimumCalls: 3, breakerHalfOpenAfterMs: 10_000 } },
      'judge payments quickly',
    );
    await appliedEverywhere('orders', resilience.version);
    await appliedEverywhere(
      'payments',
      (await change('payments', { simulator: { errorRate: 1 } }, 'provider outage')).version,
    );

    let refused: Awaited<ReturnType<typeof checkout>> | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await checkout(system, await shopper(), { paymentToken: 'tok_visa' });
      if (res.status === 503) refused = res;
      else assert.ok([201, 202].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
    }
    assert.ok(refused, 'a checkout was refused once the circuit opened');

    // A product of its own, so that no other order's saga moves the stock looked at.
    const spare = await stockedProduct(system, merchant, { price: 700, stock: 3, name: 'Config spoon' });
    const customer = await signUp(system, 'config-shopper', 'customer');
    await putInCart(system, customer, spare.id, 1);
    const stock = await stockOf(system, merchant, spare.id);
    const started = performance.now();
    const res = await checkout(system, customer, { paymentToken: 'tok_visa' });
    const tookMs = performance.now() - started;
    console.log(`checkout refused in ${tookMs.toFixed(1)} ms`);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.code, 'PAYMENTS_UNAVAILABLE');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${res.headers.get('retry-after')}`);
    assert.equal(res.headers.get('bazaar-degraded'), null, 'the internal marker stays inside');
    // Refused before the saga: a checkout that went ahead would wait for it (2 s) and answer 202.
    assert.ok(tookMs < 2_000, `answered in ${tookMs} ms`);
    const mine = await api(system, 'GET', '/api/orders', { token: customer.accessToken });
    assert.deepEqual((mine.body as { items: unknown[] }).items, [], 'no order was made');
    assert.deepEqual(await stockOf(system, merchant, spare.id), stock, 'no stock was touched');
  });

  test('errorRate back to 0: checkout recovers once the circuit lets a probe through', async () => {
    await appliedEverywhere('payments', (await change('payments', {}, 'provider back')).version);
    const customer = await shopper();
    const order = await eventually(
      'a checkout goes through again',
      async () => {
        const res = await checkout(system, customer, { paymentToken: 'tok_visa' });
        if (res.status === 503) return undefined;
        assert.ok([201, 202].includes(res.status), `checkout answered ${res.status}: ${res.text}`);
        return settledOrder(system, customer, (res.body as unknown as Order).id);
      },
      (o) => o !== undefined,
      { ms: 30_000 },
    );
    assert.equal(order?.status, 'CONFIRMED');
    await change('orders', {}, 'thresholds back to the defaults');
    await assertInvariants(system);
  });
});
