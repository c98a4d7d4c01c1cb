import type { Role } from '@bazaar/contracts';
import type { Queryable } from './db.ts';

/** Starts a session (a refresh-token family). */
export async function insertSession(
  db: Queryable,
  session: { id: string; userId: string; at: Date; expiresAt: Date },
): Promise<void> {
  await db.query('INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
    session.id,
    session.userId,
    session.at,
    session.expiresAt,
  ]);
}

/** Stores a refresh token (by its hash) in its session. */
export async function insertRefreshToken(
  db: Queryable,
  token: { hash: Buffer; sessionId: string; at: Date },
): Promise<void> {
  await db.query('INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)', [
    token.hash,
    token.sessionId,
    token.at,
  ]);
}

/** A refresh token with its session and user, as a refresh sees them. */
export interface RefreshTokenRow {
  session_id: string;
  spent_at: Date | null;
  successor: string | null;
  session_created_at: Date;
  session_expires_at: Date;
  session_revoked_at: Date | null;
  user_id: string;
  role: Role;
  disabled_at: Date | null;
}

/**
 * The refresh token with this hash, locked with its session (so racing refreshes, a logout or a
 * disable of the user wait for each other) inside the caller's transaction.
 */
export async function lockRefreshToken(db: Queryable, hash: Buffer): Promise<RefreshTokenRow | undefined> {
  const { rows } = await db.query<RefreshTokenRow>(
    `SELECT rt.session_id, rt.spent_at, rt.successor,
            s.created_at AS session_created_at, s.expires_at AS session_expires_at,
            s.revoked_at AS session_revoked_at, u.id AS user_id, u.role, u.disabled_at
       FROM refresh_tokens rt
       JOIN sessions s ON s.id = rt.session_id
       JOIN users u ON u.id = s.user_id
      WHERE rt.token_hash = $1
      FOR UPDATE OF rt, s FOR SHARE OF u`,
    [hash],
  );
  return rows[0];
}

/** Marks a refresh token spent, keeping the sealed pair it was exchanged for. */
export async function spendRefreshToken(
  db: Queryable,
  hash: Buffer,
  at: Date,
  successor: string,
): Promise<void> {
  await db.query('UPDATE refresh_tokens SET spent_at = $2, successor = $3 WHERE token_hash = $1', [
    hash,
    at,
    successor,
  ]);
}

/** The session a refresh token (by hash) belongs to, with its user. */
export async function sessionOfRefreshToken(
  db: Queryable,
  hash: Buffer,
): Promise<{ session_id: string; user_id: string } | undefined> {
  const { rows } = await db.query<{ session_id: string; user_id: string }>(
    `SELECT rt.session_id, s.user_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
      WHERE rt.token_hash = $1`,
    [hash],
  );
  return rows[0];
}

/** Revokes sessions still live: one by id, or every one of a user (optionally but one). Answers their ids. */
export async function revokeSessions(
  db: Queryable,
  target: { sessionId: string } | { userId: string; except?: string },
  at: Date,
  reason: string,
): Promise<string[]> {
  const { rows } =
    'sessionId' in target
      ? await db.query<{ id: string }>(
          `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
            WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
          [target.sessionId, at, reason],
        )
      : await db.query<{ id: string }>(
          `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
            WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
              AND ($4::uuid IS NULL OR id <> $4::uuid)
            RETURNING id`,
          [target.userId, at, reason, target.except ?? null],
        );
  return rows.map((r) => r.id);
}

/** What an access token's session says now: whether it may still be used, and the user's role. */
export interface SessionStatus {
  user_id: string;
  revoked_at: Date | null;
  disabled_at: Date | null;
  role: Role;
}

/** The status of session `sid`, with its user. */
export async function sessionStatus(db: Queryable, sid: string): Promise<SessionStatus | undefined> {
  const { rows } = await db.query<SessionStatus>(
    `SELECT s.user_id, s.revoked_at, u.disabled_at, u.role
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
    [sid],
  );
  return rows[0];
}

/** Deletes sessions (and their tokens) past their absolute lifetime; answers how many. */
export async function deleteExpiredSessions(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
  return rowCount ?? 0;
}
