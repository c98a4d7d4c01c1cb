/** Named prepared statements in the kit's pools, against a real database. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { createPool } from '../src/db/pool.ts';
import { isStalePlan, MAX_NAMED_TEXTS, statementName } from '../src/db/prepared.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('prepared');
});
after(() => db?.drop());

const log = pino({ level: 'silent' });

/** The statements this connection has prepared, by text. */
const PREPARED = 'SELECT statement FROM pg_prepared_statements WHERE NOT from_sql';

test('a query with parameters is prepared once per connection and runs again with only its values', async () => {
  const pool = createPool({ url: db.url, max: 1, application: 'prepared-test', log });
  try {
    const text = 'SELECT $1::int + $2::int AS sum';
    for (let i = 0; i < 7; i++) {
      const { rows } = await pool.query<{ sum: number }>(text, [i, 1]);
      assert.equal(rows[0]?.sum, i + 1);
    }
    const { rows } = await pool.query<{ statement: string }>(`${PREPARED} AND statement = $1`, [text]);
    assert.equal(rows.length, 1, 'one prepared statement for the text, however often it ran');
    // Without parameters a query goes unnamed, through the simple protocol (several statements
    // allowed), also with an empty values array.
    await pool.query('SELECT 1; SELECT 2');
    await pool.query('SELECT 3; SELECT 2', []);
    const after = await pool.query<{ statement: string }>(PREPARED, []);
    assert.ok(!after.rows.some((r) => r.statement.includes('SELECT 2')));
  } finally {
    await pool.end();
  }
});

test('a statement that fails, or fails to parse, leaves the connection usable and prepares again', async () => {
  const pool = createPool({ url: db.url, max: 1, application: 'prepared-test', log });
  try {
    await assert.rejects(pool.query('SELECT nonsense FROM nowhere WHERE x = $1', [1]), /does not exist/);
    await pool.query('CREATE TABLE IF NOT EXISTS prepared_t (id int PRIMARY KEY)');
    const insert = 'INSERT INTO prepared_t (id) VALUES ($1)';
    await pool.query(insert, [1]);
    await assert.rejects(pool.query(insert, [1]), /duplicate key/);
    // Inside a transaction that is rolled back, the statement stays prepared (PREPARE is not transactional).
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(insert, [2]);
      await client.query('ROLLBACK');
      await client.query(insert, [3]);
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ id: number }>(
      'SELECT id FROM prepared_t WHERE id >= $1 ORDER BY id',
      [0],
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      [1, 3],
    );
  } finally {
    await pool.end();
  }
});

test("a migration that changes a prepared statement's columns: the statement is prepared again, on the same connection", async () => {
  const pool = createPool({ url: db.url, max: 1, application: 'prepared-test', log });
  const migrator = new pg.Client({ connectionString: db.url });
  await migrator.connect();
  try {
    await migrator.query('CREATE TABLE stale_t (id int PRIMARY KEY)');
    await migrator.query('INSERT INTO stale_t (id) VALUES (1), (2)');
    const read = 'SELECT * FROM stale_t WHERE id = $1';
    const pid = async () =>
      (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', [])).rows[0]?.pid;
    assert.deepEqual((await pool.query(read, [1])).rows, [{ id: 1 }]);
    const before = await pid();

    // What PostgreSQL does to a statement prepared before the migration, when nothing handles it.
    const plain = new pg.Client({ connectionString: db.url });
    await plain.connect();
    try {
      await plain.query({ name: 'plain_read', text: read, values: [1] });
      await migrator.query(`ALTER TABLE stale_t ADD COLUMN note text NOT NULL DEFAULT 'new'`);
      const refused = await plain
        .query({ name: 'plain_read', text: read, values: [1] })
        .catch((e: unknown) => e);
      assert.ok(isStalePlan(refused), `a plain client is refused: ${String(refused)}`);
    } finally {
      await plain.end();
    }

    // On its own: prepared again and answered at once, with the new columns, on the same connection.
    assert.deepEqual((await pool.query(read, [1])).rows, [{ id: 1, note: 'new' }]);
    assert.equal(await pid(), before, 'the connection was kept');

    // Within a transaction the refusal aborts it; the next transaction prepares the statement again.
    await migrator.query('ALTER TABLE stale_t ADD COLUMN extra int NOT NULL DEFAULT 7');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await assert.rejects(client.query(read, [2]), (e: unknown) => isStalePlan(e));
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      assert.deepEqual((await client.query(read, [2])).rows, [{ id: 2, note: 'new', extra: 7 }]);
      await client.query('COMMIT');
      assert.deepEqual((await client.query(read, [1])).rows, [{ id: 1, note: 'new', extra: 7 }]);
    } finally {
      client.release();
    }
    assert.equal(await pid(), before, 'the connection was kept');
  } finally {
    await migrator.end();
    await pool.end();
  }
});

test('prepare: false sends every query unnamed', async () => {
  const pool = createPool({ url: db.url, max: 1, application: 'prepared-test', log, prepare: false });
  try {
    await pool.query('SELECT $1::text AS unnamed_check', ['x']);
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${PREPARED}) p`, []);
    assert.equal(rows[0]?.n, 0);
  } finally {
    await pool.end();
  }
});

test('a text keeps its name, and names stop at the cap so varying SQL cannot grow without bound', () => {
  const first = statementName('SELECT $1::int AS cap_probe');
  assert.ok(first);
  assert.equal(statementName('SELECT $1::int AS cap_probe'), first);
  let last: string | undefined = first;
  for (let i = 0; i < MAX_NAMED_TEXTS + 5 && last !== undefined; i++)
    last = statementName(`SELECT ${i} AS cap_${i}`);
  assert.equal(last, undefined, 'a text past the cap goes unnamed');
  assert.equal(
    statementName('SELECT $1::int AS cap_probe'),
    first,
    'texts named before the cap keep their names',
  );
});
