import type { AdminUser, Position, Role, User } from '@bazaar/contracts';
import type { Queryable } from './db.ts';

/** A row of `users`. */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, email, name, role, password_hash, disabled_at, created_at, updated_at';

/** A user as every API shows it. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    createdAt: row.created_at.toISOString(),
  };
}

/** A user as admins see it. */
export function toAdminUser(row: UserRow): AdminUser {
  return {
    ...toUser(row),
    disabled: row.disabled_at !== null,
    disabledAt: row.disabled_at?.toISOString() ?? null,
  };
}

/** Inserts a user; undefined when the email (or the id) is taken already. */
export async function insertUser(
  db: Queryable,
  user: { id: string; email: string; name: string; role: Role; passwordHash: string; at: Date },
): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT DO NOTHING
     RETURNING ${COLUMNS}`,
    [user.id, user.email, user.name, user.role, user.passwordHash, user.at],
  );
  return rows[0];
}

/** The user with this (normalised) email. */
export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
  return rows[0];
}

/** The user with this id; `lock` takes a share lock so that a concurrent disable waits for the caller's transaction. */
export async function findUserById(
  db: Queryable,
  id: string,
  lock: 'none' | 'share' | 'update' = 'none',
): Promise<UserRow | undefined> {
  const suffix = lock === 'share' ? ' FOR SHARE' : lock === 'update' ? ' FOR UPDATE' : '';
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1${suffix}`, [id]);
  return rows[0];
}

/** Replaces a user's password hash. */
export async function setPasswordHash(
  db: Queryable,
  id: string,
  passwordHash: string,
  at: Date,
): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [
    id,
    passwordHash,
    at,
  ]);
}

/** Sets a user's role and/or disabled time (null enables); answers the changed row. */
export async function updateUser(
  db: Queryable,
  id: string,
  change: { role?: Role; disabledAt?: Date | null },
  at: Date,
): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET
       role = COALESCE($2, role),
       disabled_at = CASE WHEN $3::boolean THEN $4::timestamptz ELSE disabled_at END,
       updated_at = $5
     WHERE id = $1
     RETURNING ${COLUMNS}`,
    [id, change.role ?? null, change.disabledAt !== undefined, change.disabledAt ?? null, at],
  );
  return rows[0];
}

/** One page of users, oldest first, after `after`; `q` matches email or name, ignoring case. */
export async function listUsers(
  db: Queryable,
  options: { limit: number; after?: Position; q?: string },
): Promise<UserRow[]> {
  const values: unknown[] = [options.limit];
  const where: string[] = [];
  if (options.after) {
    values.push(options.after.createdAt, options.after.id);
    where.push(`(created_at, id) > ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
  }
  if (options.q) {
    values.push(`%${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`(email ILIKE $${values.length} OR name ILIKE $${values.length})`);
  }
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at, id LIMIT $1`,
    values,
  );
  return rows;
}
