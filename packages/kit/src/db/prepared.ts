/**
 * Server-side prepared statements for the kit's pools. A query with parameters is sent as a named
 * statement, so each connection has PostgreSQL parse and analyse its text once and, after a few
 * runs, plan it once too (a generic plan, where PostgreSQL judges it no worse); later runs send
 * only the parameters. Parsing and planning are most of what a short statement costs the server.
 *
 * Names are handed out per process in the order texts are first seen (`bz1`, `bz2`, …), one per
 * distinct text, up to `MAX_NAMED_TEXTS`; texts past that go unnamed, as before, so SQL built with
 * a varying shape cannot grow every connection's statements without bound. A query without
 * parameters (`BEGIN`, several statements in one string), also one given an empty values array,
 * goes through the simple protocol as before. Named statements do not survive a
 * transaction-pooling PgBouncer older than 1.21: `BAZAAR_DB_PREPARED_STATEMENTS=false` turns them off.
 *
 * A migration run by a newer instance can change the columns a prepared statement answers with
 * (`RETURNING *`, a column's type): PostgreSQL then refuses that statement on every connection that
 * prepared it ("cached plan must not change result type") until it is prepared again. The client
 * drops such a statement and prepares it afresh: at once, running it again, when it ran on its own;
 * within a transaction the error has aborted the transaction, so that transaction fails and the
 * statement is prepared again on its next run.
 */
import pg from 'pg';

/** Distinct texts given a name in this process; more go unnamed. */
export const MAX_NAMED_TEXTS = 2_000;

const names = new Map<string, string>();

/** The statement name of `text`, or `undefined` once the process has named as many texts as it may. */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED_TEXTS) {
    name = `bz${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

/** `pg.Client#query` without its overloads: this class only passes arguments through. */
type LooseQuery = (config: unknown, values?: unknown, callback?: unknown) => unknown;
const baseQuery = pg.Client.prototype.query as LooseQuery;

/** PostgreSQL refusing a prepared statement whose result columns changed since it was prepared. */
export function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && String(e.message).includes('cached plan must not change result type');
}

/** SQLSTATE of DEALLOCATE of a name the connection has no statement for. */
const NO_SUCH_STATEMENT = '26000';

/** A `pg.Client` that sends each query with parameters as a named (prepared) statement. */
export class PreparingClient extends pg.Client {
  /** Names whose statement on this connection went stale: dropped before their next run. */
  readonly #stale = new Set<string>();

  // biome-ignore lint/suspicious/noExplicitAny: pg.Client's query has a dozen overloads; this keeps them.
  override query(config: any, values?: any, callback?: any): any {
    // Only with parameters: without, pg sends the text by the simple protocol, which also runs
    // several statements in one string (pg-boss's maintenance does, with an empty values array).
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      const name = statementName(config);
      if (name !== undefined) {
        const result = this.#named(name, config, values);
        if (typeof callback !== 'function') return result;
        result.then(
          (r) => callback(null, r),
          (e: unknown) => callback(e),
        );
        return undefined;
      }
    }
    return baseQuery.call(this, config, values, callback);
  }

  /** Runs `text` as the statement `name`, preparing it again when a migration made it stale. */
  async #named(name: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
    const run = () => baseQuery.call(this, { name, text, values }) as Promise<pg.QueryResult>;
    if (this.#stale.has(name)) await this.#drop(name);
    // Read before the statement runs: pg answers an error before the server says the transaction
    // state that follows it, so this is whether the statement ran inside a transaction.
    const alone = this.getTransactionStatus() === 'I';
    try {
      return await run();
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      this.#stale.add(name);
      if (!alone) throw err;
      await this.#drop(name);
      return run();
    }
  }

  /** Drops the server's statement `name` on this connection, so its next run prepares it again. */
  async #drop(name: string): Promise<void> {
    try {
      await baseQuery.call(this, `DEALLOCATE ${name}`);
    } catch (err) {
      if ((err as { code?: unknown }).code !== NO_SUCH_STATEMENT) throw err;
    }
    const connection = (this as unknown as { connection: { parsedStatements: Record<string, string> } })
      .connection;
    delete connection.parsedStatements[name];
    this.#stale.delete(name);
  }
}
