import { REFRESH_TOKEN_LIFETIME_SECONDS } from '@bazaar/contracts';

/** Two refreshes racing with one token within this window both get the same new pair. */
export const REFRESH_GRACE_MS = 10_000;

/** When a session started at `createdAt` ends, whatever is refreshed in between. */
export function sessionExpiresAt(createdAt: number): number {
  return createdAt + REFRESH_TOKEN_LIFETIME_SECONDS * 1000;
}

/** What is known about a presented refresh token and its family when it is used. */
export interface RefreshState {
  /** When the token was exchanged already, or null while it is unspent. */
  spentAt: number | null;
  /** Whether the pair it was exchanged for is kept (sealed) for a racing refresh. */
  hasSuccessor: boolean;
  sessionRevokedAt: number | null;
  sessionExpiresAt: number;
  userDisabled: boolean;
}

/** What a refresh does. */
export type RefreshDecision =
  /** Spend the token and answer a new pair. */
  | { kind: 'rotate' }
  /** A racing refresh within the grace: answer the pair the token was already exchanged for. */
  | { kind: 'replay' }
  /** A spent token used again after the grace: someone holds a stolen copy, end the family. */
  | { kind: 'reuse' }
  | { kind: 'refuse'; reason: 'revoked' | 'expired' | 'disabled' };

/** Decides what the refresh of a known token does at `now` (single use, grace, absolute lifetime). */
export function decideRefresh(state: RefreshState, now: number, graceMs = REFRESH_GRACE_MS): RefreshDecision {
  if (state.sessionRevokedAt !== null) return { kind: 'refuse', reason: 'revoked' };
  if (now >= state.sessionExpiresAt) return { kind: 'refuse', reason: 'expired' };
  if (state.userDisabled) return { kind: 'refuse', reason: 'disabled' };
  if (state.spentAt === null) return { kind: 'rotate' };
  if (state.hasSuccessor && now - state.spentAt <= graceMs) return { kind: 'replay' };
  return { kind: 'reuse' };
}
