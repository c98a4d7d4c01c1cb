import type { Revocations } from '@bazaar/contracts';
import type { Queryable } from './db.ts';

/** Records that tokens of these subjects or sessions issued before `notBefore` are refused until `expiresAt`. */
export async function recordRevocations(
  db: Queryable,
  kind: 'subject' | 'session',
  keys: readonly string[],
  notBefore: Date,
  expiresAt: Date,
): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `INSERT INTO revocations (kind, key, not_before, expires_at)
     SELECT $1, key, $3, $4 FROM unnest($2::text[]) AS key
     ON CONFLICT (kind, key) DO UPDATE SET
       not_before = GREATEST(revocations.not_before, EXCLUDED.not_before),
       expires_at = GREATEST(revocations.expires_at, EXCLUDED.expires_at)`,
    [kind, keys, notBefore, expiresAt],
  );
}

/** Forgets the subject revocation of a user (when the user is enabled again). */
export async function deleteSubjectRevocation(db: Queryable, userId: string): Promise<void> {
  await db.query(`DELETE FROM revocations WHERE kind = 'subject' AND key = $1`, [userId]);
}

/** The revocations still in force at `now`. */
export async function listRevocations(
  db: Queryable,
  now: Date,
): Promise<Pick<Revocations, 'subjects' | 'sessions'>> {
  const { rows } = await db.query<{ kind: 'subject' | 'session'; key: string; not_before: Date }>(
    'SELECT kind, key, not_before FROM revocations WHERE expires_at > $1 ORDER BY not_before, key',
    [now],
  );
  const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
  return {
    subjects: rows
      .filter((r) => r.kind === 'subject')
      .map((r) => ({ sub: r.key, notBefore: seconds(r.not_before) })),
    sessions: rows
      .filter((r) => r.kind === 'session')
      .map((r) => ({ sid: r.key, notBefore: seconds(r.not_before) })),
  };
}

/** Deletes revocations no token can need any more; answers how many. */
export async function pruneRevocations(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM revocations WHERE expires_at <= $1', [now]);
  return rowCount ?? 0;
}
