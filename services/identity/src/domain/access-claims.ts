import { type AccessTokenClaims, type Role, USER_AUDIENCE } from '@bazaar/contracts';

const ROLES: readonly string[] = ['customer', 'merchant', 'admin'] satisfies Role[];

/**
 * The claims of a verified access token when they have the shape of `AccessTokenClaims` (signature,
 * `alg`, `typ` header, `iss`, `aud` and times are checked before), or the reason they do not.
 */
export function readAccessClaims(payload: Record<string, unknown>): AccessTokenClaims | string {
  if (payload.typ !== 'access') return 'not an access token';
  if (payload.aud !== USER_AUDIENCE) return 'not for this audience';
  for (const name of ['sub', 'sid', 'jti'] as const) {
    if (typeof payload[name] !== 'string' || payload[name] === '') return `no ${name}`;
  }
  if (typeof payload.role !== 'string' || !ROLES.includes(payload.role)) return 'no valid role';
  if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number') return 'no iat or exp';
  return payload as unknown as AccessTokenClaims;
}
