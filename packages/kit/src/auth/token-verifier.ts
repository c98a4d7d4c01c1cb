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
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { Clock } from '../time.ts';
import type { JwksCache } from './jwks-cache.ts';
import { LruCache } from './lru-cache.ts';
import { type RejectReason, TokenRejected } from './principal.ts';
import type { RevocationList } from './revocation-list.ts';

/** The two kinds of token identity signs. */
export type TokenKind = 'access' | 'service';

/** How one verification ended (a bounded set: it labels a metric). */
export type VerifyOutcome = 'verified' | 'cached' | 'rejected';

/** What `TokenVerifier` needs. */
export interface TokenVerifierOptions {
  keys: JwksCache;
  /** This service's name: the audience a service token must carry to be accepted here. */
  service: string;
  clock: Clock;
  revocations?: RevocationList;
  /** Verified tokens remembered (LRU). */
  cacheSize?: number;
  /** Leeway for `exp`, `nbf` and `iat` against clocks that drift, in seconds. */
  clockToleranceSeconds?: number;
  /** Told of every verification (the kit counts them in `bazaar_auth_verifications_total`). */
  onVerify?: (event: { kind: TokenKind; outcome: VerifyOutcome; reason?: RejectReason }) => void;
}

interface Verified {
  kind: TokenKind;
  kid: string;
  /** When the token stops being good, tolerance included (ms). */
  goodUntil: number;
  claims: AccessTokenClaims | ServiceTokenClaims;
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 4096;
const ROLES = new Set<Role>(['customer', 'merchant', 'admin']);
const TYP = { access: ACCESS_TOKEN_TYP, service: SERVICE_TOKEN_TYP } as const;

/**
 * Verifies the tokens identity signs: compact JWS only, algorithm pinned to EdDSA, header `typ`
 * (`at+jwt` or `st+jwt`), signature by a key of identity's JWKS, `iss`, `aud` (`bazaar` for users,
 * this service's own name for service tokens), `exp`/`nbf` with a small tolerance, the claims'
 * shape, and revocations. A verified token is remembered (keyed by the token itself) until it
 * expires or its key leaves the JWKS, so a hot token costs a map lookup.
 */
export class TokenVerifier {
  readonly #keys: JwksCache;
  readonly #service: string;
  readonly #clock: Clock;
  readonly #revocations: RevocationList | undefined;
  readonly #toleranceS: number;
  readonly #cache: LruCache<string, Verified>;
  readonly #onVerify: TokenVerifierOptions['onVerify'];

  constructor(options: TokenVerifierOptions) {
    this.#keys = options.keys;
    this.#service = options.service;
    this.#clock = options.clock;
    this.#revocations = options.revocations;
    this.#toleranceS = options.clockToleranceSeconds ?? 5;
    this.#cache = new LruCache(options.cacheSize ?? 10_000);
    this.#onVerify = options.onVerify;
  }

  /** The claims of a valid user access token; throws `TokenRejected` (or `KeysUnavailable`). */
  async accessToken(token: string): Promise<AccessTokenClaims> {
    return (await this.#verify(token, 'access')) as AccessTokenClaims;
  }

  /** The claims of a valid service token addressed to this service; throws like `accessToken`. */
  async serviceToken(token: string): Promise<ServiceTokenClaims> {
    return (await this.#verify(token, 'service')) as ServiceTokenClaims;
  }

  async #verify(token: string, kind: TokenKind): Promise<AccessTokenClaims | ServiceTokenClaims> {
    this.#keys.refreshIfStale();
    try {
      const cached = this.#cache.get(token);
      if (cached) {
        const claims = this.#stillGood(token, cached, kind);
        this.#onVerify?.({ kind, outcome: 'cached' });
        return claims;
      }
      const verified = await this.#verifyFully(token, kind);
      this.#cache.set(token, verified);
      this.#onVerify?.({ kind, outcome: 'verified' });
      return verified.claims;
    } catch (err) {
      if (err instanceof TokenRejected) this.#onVerify?.({ kind, outcome: 'rejected', reason: err.reason });
      throw err;
    }
  }

  #stillGood(token: string, entry: Verified, kind: TokenKind): AccessTokenClaims | ServiceTokenClaims {
    if (entry.kind !== kind) throw new TokenRejected('type', `a ${entry.kind} token used as ${kind}`);
    // The key first, as a full verification does: a token gets the same reason cached or not.
    if (!this.#keys.has(entry.kid)) {
      this.#cache.delete(token);
      throw new TokenRejected('unknown-key', 'its key left the JWKS');
    }
    if (this.#clock.now() >= entry.goodUntil) {
      this.#cache.delete(token);
      throw new TokenRejected('expired');
    }
    this.#checkRevoked(entry.claims);
    return entry.claims;
  }

  async #verifyFully(token: string, kind: TokenKind): Promise<Verified> {
    if (token.length > MAX_TOKEN_LENGTH || !JWS_COMPACT.test(token)) {
      throw new TokenRejected('malformed', 'not a compact JWS');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenRejected('malformed', 'unreadable header');
    }
    if (header.alg !== TOKEN_ALG) throw new TokenRejected('algorithm', String(header.alg));
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== TYP[kind]) {
      throw new TokenRejected('type', `header typ ${String(header.typ)}`);
    }
    const kid = header.kid;
    if (typeof kid !== 'string' || kid === '') throw new TokenRejected('unknown-key', 'no kid');
    const key = await this.#keys.key(kid);
    if (!key) throw new TokenRejected('unknown-key', kid);

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [TOKEN_ALG],
        typ: TYP[kind],
        issuer: TOKEN_ISSUER,
        audience: kind === 'access' ? USER_AUDIENCE : this.#service,
        clockTolerance: this.#toleranceS,
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['iat', 'exp', 'sub', 'jti'],
      }));
    } catch (err) {
      throw rejection(err);
    }
    const claims = kind === 'access' ? readAccess(payload) : readService(payload);
    if (claims.iat * 1000 > this.#clock.now() + this.#toleranceS * 1000) {
      throw new TokenRejected('not-yet-valid', 'issued in the future');
    }
    this.#checkRevoked(claims);
    return { kind, kid, goodUntil: (claims.exp + this.#toleranceS) * 1000, claims };
  }

  #checkRevoked(claims: AccessTokenClaims | ServiceTokenClaims): void {
    const sid = 'sid' in claims ? claims.sid : undefined;
    if (this.#revocations?.isRevoked(claims.sub, sid, claims.iat)) throw new TokenRejected('revoked');
  }
}

function readAccess(payload: Record<string, unknown>): AccessTokenClaims {
  const { sub, role, sid, typ, jti, iat, exp } = payload;
  if (typ !== 'access') throw new TokenRejected('type', `claim typ ${String(typ)}`);
  if (typeof sub !== 'string' || sub === '' || sub.startsWith('service:')) {
    throw new TokenRejected('claims', 'sub');
  }
  if (typeof role !== 'string' || !ROLES.has(role as Role)) throw new TokenRejected('claims', 'role');
  if (typeof sid !== 'string' || sid === '') throw new TokenRejected('claims', 'sid');
  if (typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') {
    throw new TokenRejected('claims', 'jti, iat or exp');
  }
  return payload as unknown as AccessTokenClaims;
}

function readService(payload: Record<string, unknown>): ServiceTokenClaims {
  const { sub, svc, typ, jti, iat, exp } = payload;
  if (typ !== 'service') throw new TokenRejected('type', `claim typ ${String(typ)}`);
  if (typeof svc !== 'string' || svc === '' || sub !== `service:${svc}`) {
    throw new TokenRejected('claims', 'svc or sub');
  }
  if (typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') {
    throw new TokenRejected('claims', 'jti, iat or exp');
  }
  return payload as unknown as ServiceTokenClaims;
}

function rejection(err: unknown): TokenRejected {
  if (err instanceof errors.JWTExpired) return new TokenRejected('expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new TokenRejected('issuer');
    if (err.claim === 'aud') return new TokenRejected('audience');
    if (err.claim === 'nbf') return new TokenRejected('not-yet-valid');
    if (err.claim === 'typ') return new TokenRejected('type');
    return new TokenRejected('claims', err.claim);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenRejected('algorithm');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('signature');
  return new TokenRejected('malformed', (err as Error).message);
}
