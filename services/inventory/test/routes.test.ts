import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Problem, Stock } from '@bazaar/contracts';
import { ManualClock } from '@bazaar/kit';
import type { ServiceTestDatabase } from '@bazaar/kit/testing';
import type { ReservationAnswer } from '../src/domain/reservation.ts';
import { type InventoryApp, inventoryApp } from './support/app.ts';
import { inventoryDatabase } from './support/database.ts';
import { ledgerViolations } from './support/ledger.ts';

let database: ServiceTestDatabase;
let inv: InventoryApp;
const clock = new ManualClock(Date.now());

before(async () => {
  database = await inventoryDatabase();
  inv = await inventoryApp(database.pool, clock);
});
after(async () => {
  await inv.close();
  assert.deepEqual(await ledgerViolations(database.pool), []);
  await database.drop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function getStock(productId: string, token?: string) {
  return inv.app.inject({
    method: 'GET',
    url: `/api/inventory/${productId}`,
    headers: token ? bearer(token) : {},
  });
}

function putStock(productId: string, onHand: unknown, token?: string) {
  return inv.app.inject({
    method: 'PUT',
    url: `/api/inventory/${productId}`,
    headers: token ? bearer(token) : {},
    payload: { onHand },
  });
}

async function internal(path: string, body?: object, token?: string) {
  return inv.app.inject({
    method: 'POST',
    url: path,
    headers: { 'bazaar-service-token': token ?? (await inv.service('orders')) },
    payload: body,
  });
}

function assertProblem(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  assert.equal((res.json() as Problem).code, code);
}

/** A product of a new merchant that catalog knows; inventory has not heard of it yet. */
function catalogProduct(): { productId: string; merchantId: string } {
  const productId = randomUUID();
  const merchantId = randomUUID();
  inv.catalog.products.set(productId, merchantId);
  return { productId, merchantId };
}

/** A product with `onHand` set by its merchant. */
async function stocked(onHand: number) {
  const p = catalogProduct();
  const res = await putStock(p.productId, onHand, await inv.user('merchant', p.merchantId));
  assert.equal(res.statusCode, 200);
  return p;
}

describe('GET /api/inventory/:productId', () => {
  test('anyone sees available; the owner and admins also see onHand and reserved', async () => {
    const { productId, merchantId } = await stocked(7);
    await internal('/internal/reservations', { orderId: randomUUID(), items: [{ productId, quantity: 2 }] });
    const limited = { productId, available: 5 };
    const full = { productId, available: 5, onHand: 7, reserved: 2 };
    assert.deepEqual((await getStock(productId)).json(), limited);
    assert.deepEqual((await getStock(productId, await inv.user('customer'))).json(), limited);
    assert.deepEqual((await getStock(productId, await inv.user('merchant'))).json(), limited);
    assert.deepEqual((await getStock(productId, await inv.user('merchant', merchantId))).json(), full);
    assert.deepEqual((await getStock(productId, await inv.user('admin'))).json(), full);
  });

  test('an unknown product has nothing available, and catalog is not asked', async () => {
    const lookups = inv.catalog.lookups;
    const unknown = randomUUID();
    const res = await getStock(unknown, await inv.user('merchant'));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json<Stock>(), { productId: unknown, available: 0 });
    assert.equal(inv.catalog.lookups, lookups);
  });
});

describe('PUT /api/inventory/:productId', () => {
  test("the merchant sets a product inventory has not heard of: catalog is asked once, then it's known", async () => {
    const { productId, merchantId } = catalogProduct();
    const lookups = inv.catalog.lookups;
    const token = await inv.user('merchant', merchantId);
    const first = await putStock(productId, 4, token);
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json<Stock>(), { productId, available: 4, onHand: 4, reserved: 0 });
    const second = await putStock(productId, 6, token);
    assert.deepEqual(second.json<Stock>(), { productId, available: 6, onHand: 6, reserved: 0 });
    assert.equal(inv.catalog.lookups, lookups + 1);
    const { rows } = await database.pool.query(
      `SELECT envelope->'data' AS data FROM kit_outbox WHERE type = 'inventory.stock-changed' AND subject = $1 ORDER BY seq`,
      [productId],
    );
    assert.deepEqual(
      rows.map((r) => r.data),
      [
        { productId, available: 4, revision: 1 },
        { productId, available: 6, revision: 2 },
      ],
    );
  });

  test('an admin sets any product', async () => {
    const { productId } = catalogProduct();
    const res = await putStock(productId, 3, await inv.user('admin'));
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<Stock>().available, 3);
  });

  test('another merchant and a customer get 404 and change nothing; anonymous gets 401', async () => {
    const { productId } = await stocked(5);
    assertProblem(await putStock(productId, 50, await inv.user('merchant')), 404, 'PRODUCT_NOT_FOUND');
    assertProblem(await putStock(productId, 50, await inv.user('customer')), 404, 'PRODUCT_NOT_FOUND');
    assertProblem(await putStock(productId, 50), 401, 'UNAUTHORIZED');
    assert.deepEqual((await getStock(productId)).json(), { productId, available: 5 });
  });

  test('a product catalog does not know is 404, even for an admin', async () => {
    assertProblem(await putStock(randomUUID(), 5, await inv.user('admin')), 404, 'PRODUCT_NOT_FOUND');
  });

  test('onHand below what is reserved is 409 BELOW_RESERVED and changes nothing', async () => {
    const { productId, merchantId } = await stocked(5);
    await internal('/internal/reservations', { orderId: randomUUID(), items: [{ productId, quantity: 3 }] });
    const owner = await inv.user('merchant', merchantId);
    assertProblem(await putStock(productId, 2, owner), 409, 'BELOW_RESERVED');
    assert.deepEqual((await getStock(productId, owner)).json(), {
      productId,
      available: 2,
      onHand: 5,
      reserved: 3,
    });
    // Exactly what is reserved is allowed: nothing left to sell.
    assert.deepEqual((await putStock(productId, 3, owner)).json(), {
      productId,
      available: 0,
      onHand: 3,
      reserved: 3,
    });
  });

  test('a negative or non-integer onHand is a 400 naming the field', async () => {
    const { productId, merchantId } = await stocked(5);
    for (const bad of [-1, 1.5, 'ten']) {
      const res = await putStock(productId, bad, await inv.user('merchant', merchantId));
      assertProblem(res, 400, 'VALIDATION_FAILED');
      assert.ok(res.json<Problem>().errors?.some((e) => e.path.endsWith('onHand')));
    }
    assert.deepEqual((await getStock(productId)).json(), { productId, available: 5 });
  });
});

describe('internal reservation routes', () => {
  test('a user token (even an admin) is 401, another service 403, a token for another audience 401', async () => {
    const body = { orderId: randomUUID(), items: [{ productId: randomUUID(), quantity: 1 }] };
    const asAdmin = await inv.app.inject({
      method: 'POST',
      url: '/internal/reservations',
      headers: bearer(await inv.user('admin')),
      payload: body,
    });
    assertProblem(asAdmin, 401, 'UNAUTHORIZED');
    assertProblem(
      await internal('/internal/reservations', body, await inv.service('cart')),
      403,
      'FORBIDDEN',
    );
    assertProblem(
      await internal('/internal/reservations', body, await inv.service('orders', 'payments')),
      401,
      'UNAUTHORIZED',
    );
    assertProblem(
      await internal(`/internal/reservations/${body.orderId}/release`, undefined, await inv.service('cart')),
      403,
      'FORBIDDEN',
    );
    // None of them left a trace: the order is still unknown.
    assertProblem(
      await internal(`/internal/reservations/${body.orderId}/commit`),
      404,
      'RESERVATION_NOT_FOUND',
    );
  });

  test('reserve holds for 10 minutes by default, or ttlSeconds; commit and return follow', async () => {
    const { productId } = await stocked(5);
    const orderId = randomUUID();
    const reserved = await internal('/internal/reservations', {
      orderId,
      items: [{ productId, quantity: 2 }],
    });
    assert.equal(reserved.statusCode, 200);
    assert.deepEqual(reserved.json<ReservationAnswer>(), {
      orderId,
      status: 'RESERVED',
      expiresAt: new Date(clock.now() + 600_000).toISOString(),
    });
    const short = await internal('/internal/reservations', {
      orderId: randomUUID(),
      items: [{ productId, quantity: 1 }],
      ttlSeconds: 30,
    });
    assert.equal(short.json<ReservationAnswer>().expiresAt, new Date(clock.now() + 30_000).toISOString());

    const commit = await internal(`/internal/reservations/${orderId}/commit`);
    assert.equal(commit.json<ReservationAnswer>().status, 'COMMITTED');
    assert.equal(
      (await internal(`/internal/reservations/${orderId}/commit`)).json<ReservationAnswer>().status,
      'COMMITTED',
    );
    assertProblem(await internal(`/internal/reservations/${orderId}/release`), 409, 'INVALID_STATE');
    const back = await internal(`/internal/reservations/${orderId}/return`);
    assert.equal(back.json<ReservationAnswer>().status, 'RETURNED');
    assert.equal((await getStock(productId)).json<Stock>().available, 4);
  });

  test('a reservation short of stock answers 200 REJECTED with the short product', async () => {
    const { productId } = await stocked(1);
    const orderId = randomUUID();
    const res = await internal('/internal/reservations', { orderId, items: [{ productId, quantity: 2 }] });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json<ReservationAnswer>(), {
      orderId,
      status: 'REJECTED',
      expiresAt: null,
      reason: 'OUT_OF_STOCK',
      productId,
    });
  });

  test('a commit after the reservation ran out is 409 RESERVATION_EXPIRED, even before the job ran', async () => {
    const { productId } = await stocked(5);
    const orderId = randomUUID();
    await internal('/internal/reservations', {
      orderId,
      items: [{ productId, quantity: 2 }],
      ttlSeconds: 60,
    });
    clock.advance(60_000);
    assertProblem(await internal(`/internal/reservations/${orderId}/commit`), 409, 'RESERVATION_EXPIRED');
    assert.equal((await getStock(productId)).json<Stock>().available, 5);
    const metrics = (await inv.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /bazaar_inventory_reservations_expired_total\{[^}]*by="commit"[^}]*\} 1/);
    assert.match(metrics, /bazaar_inventory_reservations_total\{[^}]*outcome="reserved"[^}]*\} [1-9]/);
  });

  test('a release before the reserve answers RELEASED, and the late reserve holds nothing', async () => {
    const { productId } = await stocked(5);
    const orderId = randomUUID();
    const release = await internal(`/internal/reservations/${orderId}/release`);
    assert.equal(release.statusCode, 200);
    assert.deepEqual(release.json<ReservationAnswer>(), { orderId, status: 'RELEASED', expiresAt: null });
    const late = await internal('/internal/reservations', { orderId, items: [{ productId, quantity: 2 }] });
    assert.equal(late.json<ReservationAnswer>().status, 'RELEASED');
    assert.equal((await getStock(productId)).json<Stock>().available, 5);
  });

  test('a return of an order never reserved is 404 RESERVATION_NOT_FOUND', async () => {
    assertProblem(
      await internal(`/internal/reservations/${randomUUID()}/return`),
      404,
      'RESERVATION_NOT_FOUND',
    );
  });

  test('a bad reservation body is a 400 and reserves nothing', async () => {
    const { productId } = await stocked(5);
    const res = await internal('/internal/reservations', {
      orderId: randomUUID(),
      items: [{ productId, quantity: 0 }],
    });
    assertProblem(res, 400, 'VALIDATION_FAILED');
    assert.equal((await getStock(productId)).json<Stock>().available, 5);
  });
});
