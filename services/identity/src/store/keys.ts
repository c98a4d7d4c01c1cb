import type { Queryable } from './db.ts';

/** A row of `signing_keys`. */
export interface KeyRow {
  kid: string;
  public_jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  private_jwk_sealed: string;
  created_at: Date;
  activates_at: Date;
  retires_at: Date | null;
}

/** Every stored signing key. */
export async function loadKeys(db: Queryable): Promise<KeyRow[]> {
  const { rows } = await db.query<KeyRow>(
    'SELECT kid, public_jwk, private_jwk_sealed, created_at, activates_at, retires_at FROM signing_keys ORDER BY activates_at, kid',
  );
  return rows;
}

/** Stores a new key. */
export async function insertKey(db: Queryable, key: KeyRow): Promise<void> {
  await db.query(
    `INSERT INTO signing_keys (kid, public_jwk, private_jwk_sealed, created_at, activates_at, retires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [key.kid, key.public_jwk, key.private_jwk_sealed, key.created_at, key.activates_at, key.retires_at],
  );
}

/** Sets when a key stops signing. */
export async function setKeyRetirement(db: Queryable, kid: string, retiresAt: Date): Promise<void> {
  await db.query('UPDATE signing_keys SET retires_at = $2 WHERE kid = $1', [kid, retiresAt]);
}

/** Deletes keys whose every token has expired. */
export async function deleteKeys(db: Queryable, kids: readonly string[]): Promise<void> {
  if (kids.length > 0) await db.query('DELETE FROM signing_keys WHERE kid = ANY($1::text[])', [kids]);
}

/** Holds the keys' advisory lock until the caller's transaction ends, so one replica changes them at a time. */
export async function lockKeys(db: Queryable): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtext('bazaar:identity:signing-keys'))");
}
