/**
 * The outbox relay against a real database with an in-memory bus: one relay at a time across
 * instances, order, rows kept while the bus fails, and the deletion of old sent rows.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EventEnvelope, EventSpec } from '@bazaar/contracts';
import pino from 'pino';
import { Type } from 'typebox';
import {
  createMetrics,
  type OutboxRelay,
  outboxWriter,
  startOutboxRelay,
  withTransaction,
} from '../src/index.ts';
import { createServiceDatabase, type ServiceTestDatabase } from '../src/testing/index.ts';

const log = pino({ level: 'silent' });
const ticked: EventSpec = { type: 'clock.hour-ticked', version: 1, data: Type.Object({ n: Type.Integer() }) };
const writer = outboxWriter('clock');

let db: ServiceTestDatabase;
before(async () => {
  db = await createServiceDatabase('events_relay', new URL('./', import.meta.url));
});
after(() => db?.drop());

/** Writes `count` events, one transaction each, as the two relays run. */
async function writeEvents(from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = from; n < from + count; n++) {
    const envelope = await withTransaction(db.pool, (tx) => writer.publish(tx, ticked, 'clock', { n }));
    ids.push(envelope.id);
  }
  return ids;
}

async function unsent(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM kit_outbox WHERE sent_at IS NULL',
  );
  return rows[0]!.n;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const giveUp = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > giveUp) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('two instances relaying one outbox publish every event once, in seq order', async () => {
  const published: EventEnvelope[] = [];
  const transport = {
    publish: async (envelopes: EventEnvelope[]) => {
      // A slow bus widens the window in which the second instance would relay the same rows.
      await new Promise((r) => setTimeout(r, 5));
      published.push(...envelopes);
    },
  };
  const relays: OutboxRelay[] = [1, 2].map(() =>
    startOutboxRelay({
      pool: db.pool,
      transport,
      log,
      metrics: createMetrics('clock'),
      pollMs: 5,
      batchSize: 7,
    }),
  );
  try {
    const ids = await writeEvents(0, 60);
    await until(async () => (await unsent()) === 0, 'the outbox to drain');
    assert.deepEqual(
      published.map((e) => e.id),
      ids,
    );
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
  }
});

test('a failing bus keeps the rows; the relay sends them in order when it recovers', async () => {
  const published: EventEnvelope[] = [];
  let down = true;
  let attempts = 0;
  const transport = {
    publish: async (envelopes: EventEnvelope[]) => {
      attempts++;
      if (down) throw new Error('bus down');
      published.push(...envelopes);
    },
  };
  const metrics = createMetrics('clock');
  const relay = startOutboxRelay({
    pool: db.pool,
    transport,
    log,
    metrics,
    pollMs: 20,
    backoffBaseMs: 5,
    backoffCapMs: 40,
  });
  try {
    const ids = await writeEvents(100, 5);
    await until(async () => attempts >= 3, 'the relay to retry');
    assert.equal(await unsent(), 5);
    await until(async () => (await metrics.outboxPending.get()).values[0]?.value === 5, 'the pending gauge');
    down = false;
    await until(async () => (await unsent()) === 0, 'the outbox to drain');
    assert.deepEqual(
      published.map((e) => e.id),
      ids,
    );
    const failures = (await metrics.outboxRelayFailures.get()).values[0]?.value ?? 0;
    assert.ok(failures >= 2, `failures counted (${failures})`);
  } finally {
    await relay.stop();
  }
});

test('sent rows older than the retention are deleted; recent ones stay', async () => {
  await db.pool.query('DELETE FROM kit_outbox');
  const old = await writeEvents(200, 3);
  await db.pool.query(
    `UPDATE kit_outbox SET sent_at = now() - interval '2 hours' WHERE id = ANY($1::uuid[])`,
    [old],
  );
  const relay = startOutboxRelay({
    pool: db.pool,
    transport: { publish: async () => undefined },
    log,
    metrics: createMetrics('clock'),
    pollMs: 10,
    sentRetentionMs: 3_600_000,
    cleanupEveryMs: 0,
  });
  try {
    const recent = await writeEvents(300, 2);
    await until(async () => (await unsent()) === 0, 'the recent rows to be sent');
    await until(
      async () =>
        (await db.pool.query('SELECT 1 FROM kit_outbox WHERE id = ANY($1::uuid[])', [old])).rowCount === 0,
      'the old rows to be deleted',
    );
    const { rowCount } = await db.pool.query('SELECT 1 FROM kit_outbox WHERE id = ANY($1::uuid[])', [recent]);
    assert.equal(rowCount, 2, 'rows sent within the retention are kept');
  } finally {
    await relay.stop();
  }
});
