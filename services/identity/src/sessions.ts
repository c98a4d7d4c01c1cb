import { randomUUID } from 'node:crypto';
import type { Role, TokenPair } from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import type pg from 'pg';
import type { Logger } from 'pino';
import { normalizeEmail } from './domain/account-rules.ts';
import { decideRefresh, sessionExpiresAt } from './domain/refresh.ts';
import { REVOCATION_RETENTION_MS, revocationNotBefore } from './domain/revocations.ts';
import { identityError } from './errors.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { inTransaction, type Queryable } from './store/db.ts';
import { recordRevocations } from './store/revocations.ts';
import {
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  revokeSessions,
  sessionOfRefreshToken,
  spendRefreshToken,
} from './store/sessions.ts';
import { findUserByEmail, findUserById } from './store/users.ts';
import type { TokenIssuer } from './tokens/issuer.ts';
import {
  isRefreshTokenShaped,
  newRefreshToken,
  openSuccessor,
  refreshTokenHash,
  sealSuccessor,
} from './tokens/refresh-token.ts';

/** Who asks to end sessions, and which: one, all of a user's, or all but the caller's own. */
export type SessionsToEnd = { sessionId: string } | { userId: string; except?: string };

/**
 * Sessions: a login starts one (a family of refresh tokens); a refresh spends its token for a new
 * pair; reuse of a spent token after the grace, a logout, a password change or an admin's change
 * ends sessions and records revocations, so their access tokens stop working everywhere.
 */
export class Sessions {
  readonly #db: pg.Pool;
  readonly #hasher: PasswordHasher;
  readonly #issuer: TokenIssuer;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(options: {
    db: pg.Pool;
    hasher: PasswordHasher;
    issuer: TokenIssuer;
    clock: Clock;
    log: Logger;
  }) {
    this.#db = options.db;
    this.#hasher = options.hasher;
    this.#issuer = options.issuer;
    this.#clock = options.clock;
    this.#log = options.log;
  }

  /**
   * A new session for the owner of these credentials. Unknown email, wrong password and disabled
   * account answer the same error after the same single Argon2 verification.
   */
  async login(email: string, password: string): Promise<TokenPair> {
    const user = await findUserByEmail(this.#db, normalizeEmail(email));
    const matches = user
      ? await this.#hasher.verify(user.password_hash, password)
      : await this.#hasher.verifyNobody(password);
    const refused = () => identityError('INVALID_CREDENTIALS', 'The email or the password is not correct.');
    if (!user || !matches || user.disabled_at) throw refused();
    return inTransaction(this.#db, async (client) => {
      // Locked so that an admin disabling this user meanwhile either waits for this session or is seen.
      const current = await findUserById(client, user.id, 'share');
      if (!current || current.disabled_at) throw refused();
      return this.#start(client, current);
    });
  }

  /** Spends `token` for a new pair (see `domain/refresh.ts` for reuse, the grace and the lifetime). */
  async refresh(token: string): Promise<TokenPair> {
    const refused = (detail: string) => identityError('INVALID_REFRESH_TOKEN', detail);
    if (!isRefreshTokenShaped(token)) throw refused('This is not a refresh token.');
    const hash = refreshTokenHash(token);
    const outcome = await inTransaction(this.#db, async (client) => {
      const row = await lockRefreshToken(client, hash);
      if (!row) return { kind: 'unknown' } as const;
      const now = this.#clock.now();
      const decision = decideRefresh(
        {
          spentAt: row.spent_at?.getTime() ?? null,
          hasSuccessor: row.successor !== null,
          sessionRevokedAt: row.session_revoked_at?.getTime() ?? null,
          sessionExpiresAt: row.session_expires_at.getTime(),
          userDisabled: row.disabled_at !== null,
        },
        now,
      );
      switch (decision.kind) {
        case 'rotate': {
          const pair = await this.#pair(client, { id: row.user_id, role: row.role }, row.session_id, now);
          await spendRefreshToken(client, hash, new Date(now), sealSuccessor(token, pair));
          return { kind: 'pair', pair } as const;
        }
        case 'replay':
          return { kind: 'pair', pair: openSuccessor(token, row.successor!) } as const;
        case 'reuse':
          await this.#end(client, { sessionId: row.session_id }, now, 'refresh-token-reuse');
          return { kind: 'reuse', sessionId: row.session_id, userId: row.user_id } as const;
        case 'refuse':
          return { kind: 'refuse', reason: decision.reason } as const;
      }
    });
    switch (outcome.kind) {
      case 'pair':
        return outcome.pair;
      case 'unknown':
        throw refused('This refresh token is not known.');
      case 'reuse':
        this.#log.warn(
          { sid: outcome.sessionId, userId: outcome.userId },
          'a spent refresh token was used again: its session is revoked',
        );
        throw refused('This refresh token was already used; its session has been ended. Log in again.');
      case 'refuse':
        throw refused(
          outcome.reason === 'expired'
            ? 'This session has reached its 14-day lifetime. Log in again.'
            : 'This session has ended. Log in again.',
        );
    }
  }

  /** Ends the session `token` belongs to (spent or not). Unknown tokens are ignored. */
  async logout(token: string): Promise<void> {
    if (!isRefreshTokenShaped(token)) return;
    const owner = await sessionOfRefreshToken(this.#db, refreshTokenHash(token));
    if (!owner) return;
    await inTransaction(this.#db, (client) =>
      this.#end(client, { sessionId: owner.session_id }, this.#clock.now(), 'logout'),
    );
  }

  /** Ends sessions in the caller's transaction and records their revocation; answers their ids. */
  end(client: Queryable, which: SessionsToEnd, reason: string): Promise<string[]> {
    return this.#end(client, which, this.#clock.now(), reason);
  }

  /** Ends sessions in a transaction of their own. */
  endNow(which: SessionsToEnd, reason: string): Promise<string[]> {
    return inTransaction(this.#db, (client) => this.end(client, which, reason));
  }

  async #end(client: Queryable, which: SessionsToEnd, now: number, reason: string): Promise<string[]> {
    const ended = await revokeSessions(client, which, new Date(now), reason);
    await recordRevocations(
      client,
      'session',
      ended,
      new Date(revocationNotBefore(now) * 1000),
      new Date(now + REVOCATION_RETENTION_MS),
    );
    return ended;
  }

  async #start(client: Queryable, user: { id: string; role: Role }): Promise<TokenPair> {
    const now = this.#clock.now();
    const sid = randomUUID();
    await insertSession(client, {
      id: sid,
      userId: user.id,
      at: new Date(now),
      expiresAt: new Date(sessionExpiresAt(now)),
    });
    return this.#pair(client, user, sid, now);
  }

  async #pair(
    client: Queryable,
    user: { id: string; role: Role },
    sid: string,
    now: number,
  ): Promise<TokenPair> {
    const refreshToken = newRefreshToken();
    await insertRefreshToken(client, {
      hash: refreshTokenHash(refreshToken),
      sessionId: sid,
      at: new Date(now),
    });
    return {
      accessToken: await this.#issuer.accessToken(user, sid),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.#issuer.lifetimes.access,
    };
  }
}
