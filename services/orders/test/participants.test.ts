import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger, createMetrics, ServiceClient, systemClock } from '@bazaar/kit';
import { StaticInstances } from '@bazaar/kit/testing';
import { Agent } from 'undici';
import { Order } from '../src/domain/order.ts';
import { httpParticipants, type Participants } from '../src/saga/participants.ts';

/** What the fake answers next, and what it was asked. */
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const seen: Array<{ path: string; key: string | undefined; body: unknown }> = [];

let server: Server;
const dispatcher = new Agent({ connect: { timeout: 500 } });
const source = new StaticInstances();
const log = createLogger({ service: 'orders', instanceId: 'test', level: 'silent' });
const metrics = createMetrics('orders-participants');

before(async () => {
  server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    seen.push({
      path: req.url ?? '',
      key: req.headers['idempotency-key'] as string | undefined,
      body: raw ? JSON.parse(raw) : undefined,
    });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  source.set('inventory', [address]);
  source.set('payments', [address]);
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await dispatcher.close();
});

function participants(reservationTtlSeconds?: number): Participants {
  const clients = new Map<string, ServiceClient>();
  return httpParticipants({
    client: (target) => {
      let client = clients.get(target);
      if (!client) {
        client = new ServiceClient({ target, source, dispatcher, metrics, log });
        clients.set(target, client);
      }
      return client;
    },
    callDeadlineMs: 2_000,
    reservationTtlSeconds,
    clock: systemClock,
  });
}

const order = Order.place(
  {
    id: '5f0c6f0e-0000-4000-8000-000000000001',
    customerId: 'c1',
    lines: [{ productId: 'p1', name: 'Mug', price: 700, quantity: 2, lineTotal: 1400, merchantId: 'm1' }],
    currency: 'USD',
    shippingAddress: { name: 'A', line1: 'B', city: 'C', postalCode: 'D', country: 'GB' },
  },
  Date.now(),
);

const problem = (status: number, code: string) => ({
  status,
  body: { status, code, title: code, detail: code },
});

describe('the saga participants', () => {
  test('reserve sends the lines, the configured hold and a key derived from the order', async () => {
    answer = { status: 200, body: { orderId: order.id, status: 'RESERVED', expiresAt: null } };
    seen.length = 0;
    assert.deepEqual(await participants(90).perform('RESERVING', order, null), { kind: 'done' });
    assert.deepEqual(seen[0], {
      path: '/internal/reservations',
      key: `${order.id}:reserve`,
      body: { orderId: order.id, items: [{ productId: 'p1', quantity: 2 }], ttlSeconds: 90 },
    });
    await participants().perform('RESERVING', order, null);
    assert.equal(
      (seen[1]!.body as { ttlSeconds?: number }).ttlSeconds,
      undefined,
      "inventory's default hold",
    );
  });

  test('reserve answers become outcomes: rejected is out of stock, released or expired holds nothing', async () => {
    const p = participants();
    answer = {
      status: 200,
      body: { orderId: order.id, status: 'REJECTED', reason: 'OUT_OF_STOCK', expiresAt: null },
    };
    assert.deepEqual(await p.perform('RESERVING', order, null), { kind: 'out-of-stock' });
    answer = { status: 200, body: { orderId: order.id, status: 'RELEASED', expiresAt: null } };
    assert.deepEqual(await p.perform('RESERVING', order, null), { kind: 'expired' });
  });

  test('authorize sends amount, currency and card token; a decline keeps its code', async () => {
    seen.length = 0;
    answer = {
      status: 200,
      body: {
        id: 'x',
        orderId: order.id,
        status: 'DECLINED',
        amount: 1400,
        currency: 'USD',
        declineCode: 'card_declined',
      },
    };
    assert.deepEqual(await participants().perform('AUTHORIZING', order, 'tok_visa'), {
      kind: 'declined',
      declineCode: 'card_declined',
    });
    assert.deepEqual(seen[0]?.body, {
      orderId: order.id,
      customerId: 'c1',
      amount: 1400,
      currency: 'USD',
      paymentToken: 'tok_visa',
    });
    assert.equal(seen[0]?.key, `${order.id}:authorize`);
    assert.equal((await participants().perform('AUTHORIZING', order, null)).kind, 'refused', 'no card token');
  });

  test("a provider error, a missing token or a 5xx is 'unavailable'; a validation error is 'refused'", async () => {
    const p = participants();
    answer = problem(503, 'PAYMENT_PROVIDER_ERROR');
    assert.equal((await p.perform('AUTHORIZING', order, 'tok_visa')).kind, 'unavailable');
    answer = problem(401, 'UNAUTHORIZED');
    assert.equal((await p.perform('CAPTURING', order, null)).kind, 'unavailable');
    answer = problem(400, 'VALIDATION_FAILED');
    assert.equal((await p.perform('AUTHORIZING', order, 'tok_visa')).kind, 'refused');
  });

  test('a commit refused because the reservation expired is told apart from other refusals', async () => {
    const p = participants();
    answer = problem(409, 'RESERVATION_EXPIRED');
    assert.deepEqual(await p.perform('COMMITTING', order, null), { kind: 'expired' });
    answer = problem(409, 'INVALID_STATE');
    assert.equal((await p.perform('COMMITTING', order, null)).kind, 'refused');
    answer = problem(409, 'INVALID_STATE');
    assert.equal((await p.perform('RETURNING', order, null)).kind, 'refused');
  });

  test('compensations succeed on the statuses that mean nothing is held any more', async () => {
    const p = participants();
    answer = {
      status: 200,
      body: { id: 'x', orderId: order.id, status: 'VOIDED', amount: 0, currency: 'USD' },
    };
    assert.deepEqual(await p.perform('VOIDING', order, null), { kind: 'done' });
    answer = { status: 200, body: { orderId: order.id, status: 'EXPIRED', expiresAt: null } };
    assert.deepEqual(await p.perform('RELEASING', order, null), { kind: 'done' });
    answer = { status: 200, body: { orderId: order.id, status: 'COMMITTED', expiresAt: null } };
    assert.equal(
      (await p.perform('RELEASING', order, null)).kind,
      'refused',
      'a committed reservation is not released',
    );
  });

  test("a service with no instance is 'unavailable', never a failure of the order", async () => {
    const empty = new StaticInstances();
    const p = httpParticipants({
      client: (target) => new ServiceClient({ target, source: empty, dispatcher, metrics, log }),
      callDeadlineMs: 500,
      clock: systemClock,
    });
    assert.equal((await p.perform('VOIDING', order, null)).kind, 'unavailable');
  });
});
