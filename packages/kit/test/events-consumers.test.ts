/**
 * The consumer runner and the dead-letter store against a real database, without a bus: what one
 * delivery does (inbox, retry, dead letter, skip) and how a redrive request is carried out.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import type { EventEnvelope, EventSpec } from '@bazaar/contracts';
import pino from 'pino';
import { Type } from 'typebox';
import {
  type BusSubscription,
  type ConsumerDefinition,
  consumerSubscription,
  createMetrics,
  listDeadLetters,
  requestRedrive,
  startRedriver,
} from '../src/index.ts';
import { createServiceDatabase, type ServiceTestDatabase } from '../src/testing/index.ts';

const log = pino({ level: 'silent' });
const counted: EventSpec = {
  type: 'stock.item-counted',
  version: 1,
  data: Type.Object({ sku: Type.String(), quantity: Type.Integer({ minimum: 0 }) }),
};

let db: ServiceTestDatabase;
let failing: string | undefined;
const metrics = createMetrics('consumers-test');
const counter: ConsumerDefinition = {
  name: 'counter',
  events: [counted],
  handle: async (event, tx) => {
    const data = event.data as { sku: string; quantity: number };
    await tx.query('INSERT INTO counts (event_id, sku, quantity) VALUES ($1, $2, $3)', [
      event.id,
      data.sku,
      data.quantity,
    ]);
    // The insert above must be rolled back with the inbox row when this throws.
    if (failing === data.sku) throw new Error(`cannot count ${data.sku}`);
  },
};
let subscription: BusSubscription;

before(async () => {
  db = await createServiceDatabase('events_consumers', new URL('./', import.meta.url));
  await db.pool.query(
    'CREATE TABLE counts (event_id uuid NOT NULL, sku text NOT NULL, quantity int NOT NULL)',
  );
  subscription = consumerSubscription({
    service: 'stock',
    consumer: counter,
    pool: db.pool,
    ctx: {},
    log,
    metrics,
    maxAttempts: 4,
    backoffBaseMs: 200,
    backoffCapMs: 1_000,
  });
});
after(() => db?.drop());
beforeEach(() => {
  failing = undefined;
});

function envelope(data: unknown, version = 1): EventEnvelope {
  return {
    id: randomUUID(),
    type: counted.type,
    version,
    source: 'test',
    subject: 'sku',
    occurredAt: new Date().toISOString(),
    data,
  };
}

async function rows(sql: string, values: unknown[] = []): Promise<number> {
  return (await db.pool.query(sql, values)).rowCount ?? 0;
}

async function consumed(outcome: string): Promise<number> {
  const { values } = await metrics.eventsConsumed.get();
  return values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
}

test('the group of a consumer is named after its service and reads its event types', () => {
  assert.equal(subscription.group, 'stock.counter');
  assert.deepEqual(subscription.types, [counted.type]);
});

test('a redelivered event finds its inbox row and changes nothing', async () => {
  const event = envelope({ sku: 'a', quantity: 3 });
  const duplicatesBefore = await consumed('duplicate');
  assert.equal(await subscription.handle(event, { attempt: 1 }), 'ack');
  assert.equal(await subscription.handle(event, { attempt: 2 }), 'ack');
  assert.equal(await rows('SELECT 1 FROM counts WHERE event_id = $1', [event.id]), 1);
  assert.equal(await consumed('duplicate'), duplicatesBefore + 1);
});

test('a failing handler rolls back its effect and its inbox row, and asks for a retry within the backoff', async () => {
  failing = 'b';
  const event = envelope({ sku: 'b', quantity: 1 });
  for (const attempt of [1, 2, 3]) {
    const outcome = await subscription.handle(event, { attempt });
    assert.notEqual(outcome, 'ack');
    const pause = (outcome as { retryInMs: number }).retryInMs;
    assert.ok(
      pause >= 0 && pause <= Math.min(1_000, 200 * 2 ** (attempt - 1)),
      `pause ${pause} within the bound`,
    );
  }
  assert.equal(await rows('SELECT 1 FROM counts WHERE event_id = $1', [event.id]), 0);
  assert.equal(await rows('SELECT 1 FROM kit_inbox WHERE event_id = $1', [event.id]), 0);
  assert.equal(await rows('SELECT 1 FROM kit_dead_letters WHERE event_id = $1', [event.id]), 0);
});

test('the last attempt that fails stores a dead letter and acks', async () => {
  failing = 'c';
  const event = envelope({ sku: 'c', quantity: 1 });
  assert.equal(await subscription.handle(event, { attempt: 4 }), 'ack');
  const letter = (await listDeadLetters(db.pool)).find((l) => l.eventId === event.id);
  assert.ok(letter);
  assert.equal(letter.attempts, 4);
  assert.equal(letter.consumer, 'counter');
  assert.match(letter.error, /cannot count c/);
  assert.deepEqual(letter.envelope, event);
});

test('a version the consumer does not read is acked without effect or dead letter', async () => {
  const event = envelope({ sku: 'd', quantity: 1 }, 2);
  assert.equal(await subscription.handle(event, { attempt: 1 }), 'ack');
  assert.equal(await rows('SELECT 1 FROM counts WHERE event_id = $1', [event.id]), 0);
  assert.equal(await rows('SELECT 1 FROM kit_dead_letters WHERE event_id = $1', [event.id]), 0);
});

test('data that does not match the declared schema is dead-lettered at once, without running the handler', async () => {
  const event = envelope({ sku: 'e', quantity: -5 });
  assert.equal(await subscription.handle(event, { attempt: 1 }), 'ack');
  const letter = (await listDeadLetters(db.pool)).find((l) => l.eventId === event.id);
  assert.ok(letter);
  assert.equal(letter.attempts, 1);
  assert.match(letter.error, /quantity/);
  assert.equal(await rows('SELECT 1 FROM counts WHERE event_id = $1', [event.id]), 0);
});

test('a redrive that fails again records the new error and clears the request; a later one succeeds', async () => {
  failing = 'f';
  const event = envelope({ sku: 'f', quantity: 7 });
  await subscription.handle(event, { attempt: 4 });
  const [letter] = (await listDeadLetters(db.pool)).filter((l) => l.eventId === event.id);
  assert.ok(letter);
  const redriver = startRedriver({ pool: db.pool, consumers: [counter], ctx: {}, log, metrics, pollMs: 50 });
  try {
    assert.equal(await requestRedrive(db.pool, { id: letter.id }), 1);
    const failedAgain = await waitFor(async () => {
      const now = (await listDeadLetters(db.pool)).find((l) => l.id === letter.id)!;
      return now.attempts > letter.attempts ? now : undefined;
    });
    assert.equal(failedAgain.redriveRequestedAt, null);
    assert.equal(failedAgain.redrivenAt, null);
    assert.equal(await rows('SELECT 1 FROM counts WHERE event_id = $1', [event.id]), 0);

    failing = undefined;
    assert.equal(await requestRedrive(db.pool, { id: letter.id }), 1);
    const redriven = await waitFor(async () => {
      const now = (await listDeadLetters(db.pool)).find((l) => l.id === letter.id)!;
      return now.redrivenAt ? now : undefined;
    });
    assert.ok(redriven.redrivenAt);
    assert.equal(await rows('SELECT 1 FROM counts WHERE event_id = $1', [event.id]), 1);
    assert.equal(
      await rows('SELECT 1 FROM kit_inbox WHERE consumer = $1 AND event_id = $2', ['counter', event.id]),
      1,
    );
  } finally {
    await redriver.stop();
  }
});

test('a redrive of every letter marks only those not yet redriven', async () => {
  const waiting = (await listDeadLetters(db.pool)).filter((l) => !l.redrivenAt).length;
  assert.ok(waiting > 0, 'earlier tests left dead letters');
  assert.equal(await requestRedrive(db.pool), waiting);
  assert.equal(await requestRedrive(db.pool, { id: 999_999 }), 0);
});

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const giveUp = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > giveUp) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
