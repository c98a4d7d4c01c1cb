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

/** A `pg.Client` that sends each query with parameters as a named (prepared) statement. */
export class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client's query has a dozen overloads; this keeps them.
  override query(config: any, values?: any, callback?: any): any {
    const query = pg.Client.prototype.query as LooseQuery;
    // Only with parameters: without, pg sends the text by the simple protocol, which also runs
    // several statements in one string (pg-boss's maintenance does, with an empty values array).
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      const name = statementName(config);
      if (name !== undefined) return query.call(this, { name, text: config, values }, callback);
    }
    return query.call(this, config, values, callback);
  }
}
