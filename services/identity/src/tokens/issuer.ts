import { randomUUID } from 'node:crypto';
import {
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  type Role,
  SERVICE_TOKEN_TYP,
  type ServiceTokenClaims,
  TOKEN_ALG,
  TOKEN_ISSUER,
  USER_AUDIENCE,
} from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import { SignJWT } from 'jose';
import { type TokenLifetimes, tokenLifetimes } from '../domain/keys.ts';
import type { KeyRing } from './key-ring.ts';

/** Signs access tokens for users and service tokens for services with the key ring's current key. */
export class TokenIssuer {
  readonly #keys: KeyRing;
  readonly #clock: Clock;
  /** How long the tokens it signs live (seconds); the key policy's retention is derived from the same. */
  readonly lifetimes: TokenLifetimes;

  constructor(options: { keys: KeyRing; clock: Clock; lifetimes?: TokenLifetimes }) {
    this.#keys = options.keys;
    this.#clock = options.clock;
    this.lifetimes = options.lifetimes ?? tokenLifetimes();
  }

  /** An access token of `user` in session `sid` (10 minutes unless configured otherwise). */
  async accessToken(user: { id: string; role: Role }, sid: string): Promise<string> {
    const iat = Math.floor(this.#clock.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: TOKEN_ISSUER,
      aud: USER_AUDIENCE,
      sub: user.id,
      role: user.role,
      sid,
      jti: randomUUID(),
      typ: 'access',
      iat,
      exp: iat + this.lifetimes.access,
    };
    return this.#sign({ ...claims }, ACCESS_TOKEN_TYP);
  }

  /** A token (5 minutes, never longer than an access token) that lets service `svc` call service `audience`. */
  async serviceToken(svc: string, audience: string): Promise<string> {
    const iat = Math.floor(this.#clock.now() / 1000);
    const claims: ServiceTokenClaims = {
      iss: TOKEN_ISSUER,
      aud: audience,
      sub: `service:${svc}`,
      svc,
      jti: randomUUID(),
      typ: 'service',
      iat,
      exp: iat + this.lifetimes.service,
    };
    return this.#sign({ ...claims }, SERVICE_TOKEN_TYP);
  }

  async #sign(claims: Record<string, unknown>, typ: string): Promise<string> {
    const { kid, key } = await this.#keys.signingKey();
    return new SignJWT(claims).setProtectedHeader({ alg: TOKEN_ALG, typ, kid }).sign(key);
  }
}
