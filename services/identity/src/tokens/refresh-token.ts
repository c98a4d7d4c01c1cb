import { createHash, randomBytes } from 'node:crypto';
import type { TokenPair } from '@bazaar/contracts';
import { deriveKey, open, seal } from './sealing.ts';

const PREFIX = 'bzr_';
const SHAPE = /^bzr_[A-Za-z0-9_-]{43}$/;

/** A new opaque refresh token: `bzr_` and 32 random bytes in base64url. */
export function newRefreshToken(): string {
  return `${PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Whether `token` looks like one of ours (checked before any database work). */
export function isRefreshTokenShaped(token: string): boolean {
  return SHAPE.test(token);
}

/** What the database keeps of a refresh token: its SHA-256. */
export function refreshTokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Seals the pair a token was exchanged for under a key derived from the token itself: only a holder
 * of the parent token can read it, and the database holds no usable token.
 */
export function sealSuccessor(parentToken: string, pair: TokenPair): string {
  return seal(deriveKey(parentToken, 'refresh-successor'), JSON.stringify(pair), 'successor');
}

/** Opens what {@link sealSuccessor} sealed with the same parent token. */
export function openSuccessor(parentToken: string, sealed: string): TokenPair {
  return JSON.parse(open(deriveKey(parentToken, 'refresh-successor'), sealed, 'successor')) as TokenPair;
}
