import { type Queryable, traceTransaction } from '@bazaar/kit';
import type pg from 'pg';

export type { Queryable };

/**
 * Runs `fn` in a transaction on `client`, one connection already held (the seed's, under the
 * migration lock): commits when it resolves, rolls back and rethrows when it throws. Within a
 * request or an event it is a `db.transaction` span, like the kit's `withTransaction`.
 */
export function inTransaction<T>(client: pg.ClientBase, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return traceTransaction(() => runTransaction(client, fn));
}

async function runTransaction<T>(client: pg.ClientBase, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
