import {
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  SERVICE_TOKEN_TYP,
  type ServiceTokenClaims,
  TOKEN_ALG,
  TOKEN_ISSUER,
  USER_AUDIENCE,
} from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import { type JWTVerifyGetKey, jwtVerify } from 'jose';
import { readAccessClaims } from '../domain/access-claims.ts';
import type { KeyRing } from './key-ring.ts';

/** A token that is not accepted; the reason is for logs, never for the client. */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

/**
 * Verifies tokens identity signed itself: signature by a published key, algorithm pinned to EdDSA,
 * the `typ` header, `iss`, `aud`, `exp` and `nbf` at the injected clock's time, then the claims' shape.
 */
export class TokenVerifier {
  readonly #clock: Clock;
  readonly #getKey: JWTVerifyGetKey;

  constructor(options: { keys: KeyRing; clock: Clock }) {
    this.#clock = options.clock;
    this.#getKey = async (header) => {
      const key = header.kid ? await options.keys.publicKey(header.kid) : undefined;
      if (!key) throw new TokenRejected('signed by a key that is not published');
      return key;
    };
  }

  /** The claims of a valid user access token; throws {@link TokenRejected} otherwise. */
  async accessToken(token: string): Promise<AccessTokenClaims> {
    const payload = await this.#verify(token, ACCESS_TOKEN_TYP, USER_AUDIENCE);
    const claims = readAccessClaims(payload);
    if (typeof claims === 'string') throw new TokenRejected(claims);
    return claims;
  }

  /** The claims of a valid service token addressed to `audience`; throws {@link TokenRejected} otherwise. */
  async serviceToken(token: string, audience: string): Promise<ServiceTokenClaims> {
    const payload = await this.#verify(token, SERVICE_TOKEN_TYP, audience);
    if (
      payload.typ !== 'service' ||
      typeof payload.svc !== 'string' ||
      payload.sub !== `service:${payload.svc}`
    ) {
      throw new TokenRejected('not a service token');
    }
    return payload as unknown as ServiceTokenClaims;
  }

  async #verify(token: string, typ: string, audience: string): Promise<Record<string, unknown>> {
    try {
      const { payload } = await jwtVerify(token, this.#getKey, {
        algorithms: [TOKEN_ALG],
        typ,
        issuer: TOKEN_ISSUER,
        audience,
        requiredClaims: ['iat', 'exp', 'sub', 'jti'],
        currentDate: new Date(this.#clock.now()),
      });
      return payload;
    } catch (err) {
      if (err instanceof TokenRejected) throw err;
      throw new TokenRejected((err as Error).message);
    }
  }
}
