/**
 * SQL statements counted by PostgreSQL's pg_stat_statements (the cluster started with it in
 * `shared_preload_libraries`): how many statements a piece of work ran, by database. The count
 * does not depend on how busy or noisy the machine is, so it shows what a change saved where the
 * CPU figures cannot. BEGIN and COMMIT count (utility statements are tracked); statements run
 * inside functions do not (only top-level ones).
 */
import pg from 'pg';

/** The server settings that load the extension; pass them to the embedded cluster's start. */
export const STATEMENT_COUNTING_SETTINGS = { shared_preload_libraries: 'pg_stat_statements' };

export interface StatementCounter {
  /** Forgets every count so far (the cluster's, every database's). */
  reset(): Promise<void>;
  /** Statements run since the last reset, by database, those of `ignore` left out. */
  read(): Promise<Record<string, number>>;
  /** The same by database and statement text (normalized: constants are `$n`). */
  readByStatement(): Promise<{ db: string; query: string; calls: number }[]>;
  close(): Promise<void>;
}

/** Connects to `url` (a database of the cluster the counter works for; its own statements are ignored). */
export async function statementCounter(url: string, ignore: string[]): Promise<StatementCounter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return {
    async reset() {
      await client.query('SELECT pg_stat_statements_reset()');
    },
    async read() {
      const { rows } = await client.query<{ db: string; calls: string }>(
        `SELECT d.datname AS db, sum(s.calls)::bigint AS calls
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE NOT (d.datname = ANY($1::text[]))
         GROUP BY d.datname`,
        [ignore],
      );
      return Object.fromEntries(rows.map((r) => [r.db, Number(r.calls)]));
    },
    async readByStatement() {
      const { rows } = await client.query<{ db: string; query: string; calls: string }>(
        `SELECT d.datname AS db, s.query, sum(s.calls)::bigint AS calls
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE NOT (d.datname = ANY($1::text[]))
         GROUP BY d.datname, s.query`,
        [ignore],
      );
      return rows.map((r) => ({ db: r.db, query: r.query, calls: Number(r.calls) }));
    },
    close: () => client.end(),
  };
}
