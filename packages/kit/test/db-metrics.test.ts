/** The database gauges read at scrape time: pool use and outbox lag, against a real database. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { Registry } from 'prom-client';
import { observePool } from '../src/db/pool.ts';
import { observeDeadLetters } from '../src/events/dead-letters.ts';
import { observeOutboxLag } from '../src/events/outbox-lag.ts';
import { createServiceDatabase, type ServiceTestDatabase } from '../src/testing/index.ts';

let db: ServiceTestDatabase;
before(async () => {
  db = await createServiceDatabase('db_metrics', new URL('./', import.meta.url));
});
after(() => db?.drop());

/** The value of the series of `registry` whose line starts with `prefix`. */
async function sample(registry: Registry, prefix: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

test('a pool reports connections in use and idle, its maximum, and queries waiting', async () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  const registry = new Registry();
  observePool(pool, registry, 'main');
  try {
    const held = await pool.connect();
    const waiting = pool.query('SELECT 1');
    assert.equal(await sample(registry, 'bazaar_db_pool_connections{pool="main",state="used"}'), 1);
    assert.equal(await sample(registry, 'bazaar_db_pool_waiting{pool="main"}'), 1);
    assert.equal(await sample(registry, 'bazaar_db_pool_max_connections{pool="main"}'), 1);
    held.release();
    await waiting;
    assert.equal(await sample(registry, 'bazaar_db_pool_connections{pool="main",state="idle"}'), 1);
    assert.equal(await sample(registry, 'bazaar_db_pool_waiting{pool="main"}'), 0);
  } finally {
    await pool.end();
  }
});

test('the outbox lag is the age of the oldest unsent row, and 0 when every row went', async () => {
  const registry = new Registry();
  observeOutboxLag(db.pool, registry);
  assert.equal(await sample(registry, 'bazaar_outbox_lag_seconds'), 0);
  const insert = `INSERT INTO kit_outbox (id, type, subject, envelope, created_at)
    VALUES (gen_random_uuid(), 't', 's', '{}', now() - $1 * interval '1 second')`;
  await db.pool.query(insert, [90]);
  await db.pool.query(insert, [10]);
  const lag = await sample(registry, 'bazaar_outbox_lag_seconds');
  assert.ok(lag !== undefined && lag >= 90 && lag < 120, `lag ${lag}`);
  await db.pool.query('UPDATE kit_outbox SET sent_at = now()');
  assert.equal(await sample(registry, 'bazaar_outbox_lag_seconds'), 0);
});

test('the dead letters waiting are counted at scrape time, redriven ones not', async () => {
  const registry = new Registry();
  observeDeadLetters(db.pool, registry);
  assert.equal(await sample(registry, 'bazaar_dead_letters_waiting'), 0);
  const insert = `INSERT INTO kit_dead_letters (consumer, event_id, type, envelope, error, attempts)
    VALUES ('c', gen_random_uuid(), 't', '{}', 'boom', 8)`;
  await db.pool.query(insert);
  await db.pool.query(insert);
  assert.equal(await sample(registry, 'bazaar_dead_letters_waiting'), 2);
  await db.pool.query(
    'UPDATE kit_dead_letters SET redriven_at = now() WHERE id = (SELECT min(id) FROM kit_dead_letters)',
  );
  assert.equal(await sample(registry, 'bazaar_dead_letters_waiting'), 1);
});
