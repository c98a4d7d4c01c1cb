import { randomUUID } from 'node:crypto';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  type Role,
  SERVICE_TOKEN_TTL_SECONDS,
  SERVICE_TOKEN_TYP,
  type ServiceTokenClaims,
  TOKEN_ALG,
  TOKEN_ISSUER,
  USER_AUDIENCE,
} from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import { SignJWT } from 'jose';
import type { KeyRing } from './key-ring.ts';

/** Signs access tokens for users and service tokens for services with the key ring's current key. */
export class TokenIssuer {
  readonly #keys: KeyRing;
  readonly #clock: Clock;

  constructor(options: { keys: KeyRing; clock: Clock }) {
    this.#keys = options.keys;
    this.#clock = options.clock;
  }

  /** A 10-minute access token of `user` in session `sid`. */
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
      exp: iat + ACCESS_TOKEN_TTL_SECONDS,
    };
    return this.#sign({ ...claims }, ACCESS_TOKEN_TYP);
  }

  /** A 5-minute token that lets service `svc` call service `audience`. */
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
      exp: iat + SERVICE_TOKEN_TTL_SECONDS,
    };
    return this.#sign({ ...claims }, SERVICE_TOKEN_TYP);
  }

  async #sign(claims: Record<string, unknown>, typ: string): Promise<string> {
    const { kid, key } = await this.#keys.signingKey();
    return new SignJWT(claims).setProtectedHeader({ alg: TOKEN_ALG, typ, kid }).sign(key);
  }
}
