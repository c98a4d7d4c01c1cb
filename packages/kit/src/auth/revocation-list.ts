import type { Revocations } from '@bazaar/contracts';

/**
 * Subjects and sessions whose tokens issued before a moment are no longer accepted, as identity last
 * listed them (`GET /internal/revocations`, polled every 30 s). Until a first list arrives nothing is
 * revoked: signatures and expiry still hold, and access tokens live only 10 minutes.
 */
export class RevocationList {
  #subjects = new Map<string, number>();
  #sessions = new Map<string, number>();
  #generatedAt: number | undefined;

  /** When identity generated the list in use (seconds), or undefined before the first one. */
  get generatedAt(): number | undefined {
    return this.#generatedAt;
  }

  /** Replaces the list with a newer one from identity. */
  update(list: Revocations): void {
    if (this.#generatedAt !== undefined && list.generatedAt < this.#generatedAt) return;
    this.#subjects = new Map(list.subjects.map((s) => [s.sub, s.notBefore]));
    this.#sessions = new Map(list.sessions.map((s) => [s.sid, s.notBefore]));
    this.#generatedAt = list.generatedAt;
  }

  /** Whether a token of `sub` (and session `sid`) issued at `iat` (seconds) is revoked. */
  isRevoked(sub: string, sid: string | undefined, iat: number): boolean {
    const subject = this.#subjects.get(sub);
    if (subject !== undefined && subject > iat) return true;
    if (sid === undefined) return false;
    const session = this.#sessions.get(sid);
    return session !== undefined && session > iat;
  }
}

/** Reads a revocation list from an untrusted JSON value; throws when it is not one. */
export function readRevocations(value: unknown): Revocations {
  const v = value as Partial<Revocations> | null;
  const entries = (list: unknown, key: 'sub' | 'sid') =>
    Array.isArray(list) &&
    list.every(
      (e) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as Record<string, unknown>)[key] === 'string' &&
        Number.isFinite((e as Record<string, unknown>).notBefore),
    );
  if (
    typeof v !== 'object' ||
    v === null ||
    !entries(v.subjects, 'sub') ||
    !entries(v.sessions, 'sid') ||
    !Number.isFinite(v.generatedAt)
  ) {
    throw new Error('the revocation list is malformed');
  }
  return v as Revocations;
}
