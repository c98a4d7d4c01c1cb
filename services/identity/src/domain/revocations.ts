import { ACCESS_TOKEN_TTL_SECONDS } from '@bazaar/contracts';

/** A revocation is kept while a token it concerns could still be alive (its lifetime and a margin). */
export const REVOCATION_RETENTION_MS = ACCESS_TOKEN_TTL_SECONDS * 1000 + 60_000;

/**
 * The `notBefore` (seconds) of a revocation made at `now`: tokens issued at or before that second are
 * refused. Rounding up is safe because nothing new is issued to a revoked session or disabled user.
 */
export function revocationNotBefore(now: number): number {
  return Math.floor(now / 1000) + 1;
}
