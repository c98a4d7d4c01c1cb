import { randomUUID } from 'node:crypto';
import type { AdminUserPage, AdminUserPatch, RegisterRequest, Role } from '@bazaar/contracts';
import { decodeCursor, encodeCursor, InvalidCursorError, type Position } from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import type pg from 'pg';
import {
  emailProblem,
  nameProblem,
  normalizeEmail,
  normalizeName,
  passwordProblem,
} from './domain/account-rules.ts';
import { REVOCATION_RETENTION_MS, revocationNotBefore } from './domain/revocations.ts';
import { identityError, invalidFields } from './errors.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { Sessions } from './sessions.ts';
import { inTransaction } from './store/db.ts';
import { deleteSubjectRevocation, recordRevocations } from './store/revocations.ts';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  listUsers,
  setPasswordHash,
  toAdminUser,
  type UserRow,
  updateUser,
} from './store/users.ts';

/** Accounts: registration, password changes and what admins do to users. */
export class Accounts {
  readonly #db: pg.Pool;
  readonly #hasher: PasswordHasher;
  readonly #sessions: Sessions;
  readonly #clock: Clock;

  constructor(options: { db: pg.Pool; hasher: PasswordHasher; sessions: Sessions; clock: Clock }) {
    this.#db = options.db;
    this.#hasher = options.hasher;
    this.#sessions = options.sessions;
    this.#clock = options.clock;
  }

  /** A new customer or merchant (the schema already refused `admin`); 409 when the email is taken. */
  async register(request: RegisterRequest): Promise<UserRow> {
    const email = normalizeEmail(request.email);
    const name = normalizeName(request.name);
    const problems = [
      ['body/email', emailProblem(email)],
      ['body/password', passwordProblem(request.password)],
      ['body/name', nameProblem(name)],
    ].filter((p): p is [string, string] => p[1] !== undefined);
    if (problems.length > 0) throw invalidFields(problems.map(([path, message]) => ({ path, message })));
    const role: Role = request.role === 'merchant' ? 'merchant' : 'customer';
    const passwordHash = await this.#hasher.hash(request.password);
    const user = await insertUser(this.#db, {
      id: randomUUID(),
      email,
      name,
      role,
      passwordHash,
      at: new Date(this.#clock.now()),
    });
    if (!user) throw identityError('EMAIL_TAKEN', 'An account with this email already exists.');
    return user;
  }

  /** The user with this id, or 404. */
  async get(id: string): Promise<UserRow> {
    const user = await findUserById(this.#db, id);
    if (!user) throw identityError('USER_NOT_FOUND', 'There is no such user.');
    return user;
  }

  /** Changes the caller's password after checking the current one; every other session ends. */
  async changePassword(
    caller: { userId: string; sid: string },
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    const user = await this.get(caller.userId);
    if (!(await this.#hasher.verify(user.password_hash, currentPassword))) {
      throw identityError('CURRENT_PASSWORD_INCORRECT', 'The current password is not correct.');
    }
    const problem = passwordProblem(newPassword);
    if (problem) throw invalidFields([{ path: 'body/newPassword', message: problem }]);
    const passwordHash = await this.#hasher.hash(newPassword);
    await inTransaction(this.#db, async (client) => {
      await setPasswordHash(client, user.id, passwordHash, new Date(this.#clock.now()));
      await this.#sessions.end(client, { userId: user.id, except: caller.sid }, 'password-changed');
    });
  }

  /**
   * Sets a new password for the account with this email, ending every one of its sessions: the
   * operator's way back in (`bazaar admin reset-password`), not a user's.
   */
  async resetPassword(email: string, newPassword: string): Promise<UserRow> {
    const problem = passwordProblem(newPassword);
    if (problem) throw invalidFields([{ path: 'body/password', message: problem }]);
    const user = await findUserByEmail(this.#db, normalizeEmail(email));
    if (!user) throw identityError('USER_NOT_FOUND', 'There is no such user.');
    const passwordHash = await this.#hasher.hash(newPassword);
    await inTransaction(this.#db, async (client) => {
      await setPasswordHash(client, user.id, passwordHash, new Date(this.#clock.now()));
      await this.#sessions.end(client, { userId: user.id }, 'password-reset');
    });
    return user;
  }

  /** One page of users for admins, oldest first. */
  async list(query: { limit?: number; cursor?: string; q?: string }): Promise<AdminUserPage> {
    const limit = query.limit ?? 20;
    let after: Position | undefined;
    try {
      after = query.cursor ? decodeCursor(query.cursor) : undefined;
    } catch (err) {
      if (err instanceof InvalidCursorError)
        throw invalidFields([{ path: 'querystring/cursor', message: err.message }]);
      throw err;
    }
    const rows = await listUsers(this.#db, { limit: limit + 1, after, q: query.q });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toAdminUser),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({ createdAt: last.created_at.toISOString(), id: last.id })
          : null,
    };
  }

  /**
   * An admin changes a user's role or disabled flag. Either change ends the user's sessions (their
   * tokens carry the old role, or must stop at once); disabling also revokes the subject, so every
   * service refuses its tokens within a minute. Admins cannot demote or disable themselves.
   */
  async update(adminId: string, id: string, patch: AdminUserPatch): Promise<UserRow> {
    if (id === adminId && ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true)) {
      throw identityError('OWN_ACCOUNT', 'Admins cannot demote or disable their own account.');
    }
    return inTransaction(this.#db, async (client) => {
      const current = await findUserById(client, id, 'update');
      if (!current) throw identityError('USER_NOT_FOUND', 'There is no such user.');
      const now = this.#clock.now();
      const roleChanged = patch.role !== undefined && patch.role !== current.role;
      const disabling = patch.disabled === true && current.disabled_at === null;
      const enabling = patch.disabled === false && current.disabled_at !== null;
      if (!roleChanged && !disabling && !enabling) return current;
      const updated = await updateUser(
        client,
        id,
        {
          role: roleChanged ? patch.role : undefined,
          disabledAt: disabling ? new Date(now) : enabling ? null : undefined,
        },
        new Date(now),
      );
      if (roleChanged || disabling) {
        await this.#sessions.end(client, { userId: id }, disabling ? 'user-disabled' : 'role-changed');
      }
      if (disabling) {
        await recordRevocations(
          client,
          'subject',
          [id],
          new Date(revocationNotBefore(now) * 1000),
          new Date(now + REVOCATION_RETENTION_MS),
        );
      }
      if (enabling) await deleteSubjectRevocation(client, id);
      return updated!;
    });
  }
}
