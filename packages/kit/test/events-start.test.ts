/**
 * The event runtime as `startService` wires it: without a bus (events wait in the outbox) and with
 * the pg-boss bus (the outbox reaches the service's own consumer).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EventSpec } from '@bazaar/contracts';
import { Type } from 'typebox';
import { defineService, startService, withTransaction } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';

const greeted: EventSpec = {
  type: 'hello.person-greeted',
  version: 1,
  data: Type.Object({ name: Type.String() }),
};

const hello = defineService({
  name: 'hello',
  // A folder without numbered .sql files: the service gets the kit's tables only.
  migrations: new URL('./', import.meta.url),
  register: false,
  routes: () => undefined,
  seed: async (db) => {
    await db.query('CREATE TABLE IF NOT EXISTS greetings (event_id uuid NOT NULL, name text NOT NULL)');
  },
  consumers: [
    {
      name: 'greeter',
      events: [greeted],
      handle: async (event, tx) => {
        await tx.query('INSERT INTO greetings (event_id, name) VALUES ($1, $2)', [
          event.id,
          (event.data as { name: string }).name,
        ]);
      },
    },
  ],
});

let database: TestDatabase;
let bus: TestDatabase;
before(async () => {
  [database, bus] = await Promise.all([
    createTestDatabase('events_start'),
    createTestDatabase('events_start_bus'),
  ]);
});
after(async () => {
  await Promise.all([database?.drop(), bus?.drop()]);
});

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    BAZAAR_DATABASE_URL: database.url,
    BAZAAR_LOG_LEVEL: 'silent',
    BAZAAR_OUTBOX_POLL_MS: '100',
    ...extra,
  };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const giveUp = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > giveUp) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('without a bus the service starts, keeps its events in the outbox and stops', async () => {
  const running = await startService(hello, { env: env({}), handleSignals: false });
  try {
    await withTransaction(running.ctx.db, (tx) =>
      running.ctx.events.publish(tx, greeted, 'ada', { name: 'ada' }),
    );
    const { rows } = await running.ctx.db.query('SELECT sent_at FROM kit_outbox');
    assert.equal(rows.length, 1);
    assert.equal(rows[0].sent_at, null);
  } finally {
    await running.stop();
  }
});

test('with the pg-boss bus a started service relays its outbox to its own consumer, the waiting event too', async () => {
  const running = await startService(hello, {
    env: env({ BAZAAR_BUS_DATABASE_URL: bus.url }),
    handleSignals: false,
  });
  try {
    await withTransaction(running.ctx.db, (tx) =>
      running.ctx.events.publish(tx, greeted, 'bob', { name: 'bob' }),
    );
    const greetings = async () =>
      (await running.ctx.db.query<{ name: string }>('SELECT name FROM greetings ORDER BY name')).rows.map(
        (r) => r.name,
      );
    // Ada's event waited in the outbox since the start without a bus: it goes now, and the
    // consumer's queue exists before the relay starts, so it arrives too.
    await until(async () => (await greetings()).length === 2, 'the consumer to get both events');
    assert.deepEqual(await greetings(), ['ada', 'bob']);
    await until(
      async () =>
        (await running.ctx.db.query('SELECT 1 FROM kit_outbox WHERE sent_at IS NULL')).rowCount === 0,
      'the outbox to drain',
    );
    const metrics = await running.ctx.metrics.metrics();
    assert.match(metrics, /bazaar_events_consumed_total\{[^}]*outcome="processed"[^}]*\} 2/);
    assert.match(metrics, /bazaar_bus_connected\{transport="pg-boss"[^}]*\} 1/);
  } finally {
    await running.stop();
  }
});
