import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createServiceDatabase, type ServiceTestDatabase } from '@bazaar/kit/testing';
import { eventsCommand } from '../src/events.ts';

let database: ServiceTestDatabase;

before(async () => {
  // The kit's tables only: a service database with no migrations of its own.
  database = await createServiceDatabase(
    'cli_events_test',
    new URL('./fixtures/no-migrations/', import.meta.url),
  );
});
after(async () => {
  await database?.drop();
});

async function run(...argv: string[]): Promise<string> {
  let out = '';
  const code = await eventsCommand([...argv, '--database', database.url, '--service', 'cart'], (t) => {
    out += t;
  });
  assert.equal(code, 0);
  return out;
}

test('`events dead` lists a service’s dead letters and `events redrive` asks for them again', async () => {
  assert.match(await run('dead'), /^0 dead letters waiting/m);
  const eventId = randomUUID();
  const envelope = {
    id: eventId,
    type: 'orders.order-confirmed',
    version: 1,
    source: 'orders',
    subject: 'o1',
    occurredAt: new Date().toISOString(),
    data: {},
  };
  await database.pool.query(
    `INSERT INTO kit_dead_letters (consumer, event_id, type, envelope, error, attempts)
     VALUES ('ordered-lines', $1, 'orders.order-confirmed', $2, 'boom: the cart table is gone', 8)`,
    [eventId, JSON.stringify(envelope)],
  );
  const listed = await run('dead');
  assert.match(listed, /ordered-lines/);
  assert.match(listed, new RegExp(eventId));
  assert.match(listed, /boom: the cart table is gone/);
  assert.match(listed, /^1 dead letters waiting/m);

  assert.match(await run('redrive'), /redrive requested for 1 dead letters/);
  const { rows } = await database.pool.query<{ requested: boolean }>(
    'SELECT redrive_requested_at IS NOT NULL AS requested FROM kit_dead_letters WHERE event_id = $1',
    [eventId],
  );
  assert.deepEqual(rows, [{ requested: true }]);
  assert.match(await run('dead'), /redrive requested/);
});

test('`events` refuses an unknown subcommand and a bad --id', async () => {
  await assert.rejects(eventsCommand(['resend']), /unknown events command/);
  await assert.rejects(
    eventsCommand(['redrive', '--id', 'x', '--database', 'postgres://x/y']),
    /--id expects/,
  );
});
