import { type Static, Type } from 'typebox';

/** Who may do what: the three roles (CONTRACT "Objects"). */
export const Role = Type.Union([Type.Literal('customer'), Type.Literal('merchant'), Type.Literal('admin')]);
export type Role = Static<typeof Role>;

/** The `iss` of every token identity signs. */
export const TOKEN_ISSUER = 'bazaar-identity';
/** The `aud` of user access tokens (every service accepts them). */
export const USER_AUDIENCE = 'bazaar';
/** Access tokens live 10 minutes (QUALITY.md). */
export const ACCESS_TOKEN_TTL_SECONDS = 600;
/** Service tokens live 5 minutes; callers renew them before they expire. */
export const SERVICE_TOKEN_TTL_SECONDS = 300;
/** JWT header `typ` of access tokens (RFC 9068) and of service tokens. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const SERVICE_TOKEN_TYP = 'st+jwt';
/** The only signing algorithm, pinned on verification. */
export const TOKEN_ALG = 'EdDSA';

/**
 * Claims of a user access token (header `{alg: EdDSA, typ: at+jwt, kid}`).
 * `sid` names the session (refresh-token family), so ending a session can end its access tokens.
 */
export interface AccessTokenClaims {
  iss: typeof TOKEN_ISSUER;
  aud: typeof USER_AUDIENCE;
  sub: string;
  role: Role;
  sid: string;
  jti: string;
  typ: 'access';
  iat: number;
  nbf?: number;
  exp: number;
}

/**
 * Claims of a service token (header `{alg: EdDSA, typ: st+jwt, kid}`): issued to service `svc` for
 * calling service `aud` only. Sent in `Bazaar-Service-Token`.
 */
export interface ServiceTokenClaims {
  iss: typeof TOKEN_ISSUER;
  aud: string;
  sub: `service:${string}`;
  svc: string;
  jti: string;
  typ: 'service';
  iat: number;
  exp: number;
}

/** A user as every API shows it. */
export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: Role,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);
export type User = Static<typeof User>;

/** `POST /api/auth/login` and `/refresh` answer. */
export const TokenPair = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer(),
});
export type TokenPair = Static<typeof TokenPair>;

/** `POST /internal/service-tokens` body (caller authenticates with its service credential). */
export const ServiceTokenRequest = Type.Object({
  audience: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' }),
});

/** `POST /internal/service-tokens` answer. */
export const ServiceTokenAnswer = Type.Object({ token: Type.String(), expiresIn: Type.Integer() });

/**
 * `GET /internal/revocations` (service token for identity): tokens issued before `notBefore`
 * (seconds) to a listed subject or session are no longer accepted. Verifiers poll it every 30 s,
 * so a disabled user's tokens stop working within a minute.
 */
export const Revocations = Type.Object({
  subjects: Type.Array(Type.Object({ sub: Type.String(), notBefore: Type.Integer() })),
  sessions: Type.Array(Type.Object({ sid: Type.String(), notBefore: Type.Integer() })),
  generatedAt: Type.Integer(),
});
export type Revocations = Static<typeof Revocations>;

/** Passwords are 10 to 128 characters (QUALITY.md). */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;
/** Refresh tokens die 14 days after the login that started their session, whatever happens. */
export const REFRESH_TOKEN_LIFETIME_SECONDS = 14 * 24 * 3600;

/** `POST /api/auth/register` body: nobody registers as admin, and no other field is accepted. */
export const RegisterRequest = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254 }),
    password: Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('merchant')])),
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

/** `POST /api/auth/login` body. */
export const LoginRequest = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

/** `POST /api/auth/refresh` and `/logout` body. */
export const RefreshRequest = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
export type RefreshRequest = Static<typeof RefreshRequest>;

/** `POST /api/auth/password` body. */
export const PasswordChange = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    newPassword: Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordChange>;

/** A user as admins see it: the public fields plus whether the account is disabled. */
export const AdminUser = Type.Object({
  ...User.properties,
  disabled: Type.Boolean(),
  disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type AdminUser = Static<typeof AdminUser>;

/** `GET /api/admin/users` query: `q` matches email or name (case-insensitive substring). */
export const AdminUserListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type AdminUserListQuery = Static<typeof AdminUserListQuery>;

/** `GET /api/admin/users` answer, oldest account first. */
export const AdminUserPage = Type.Object({
  items: Type.Array(AdminUser),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AdminUserPage = Static<typeof AdminUserPage>;

/** `PATCH /api/admin/users/:id` body. */
export const AdminUserPatch = Type.Object(
  { role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type AdminUserPatch = Static<typeof AdminUserPatch>;

/** One public key of `GET /.well-known/jwks.json` (RFC 7517, OKP Ed25519). */
export const PublicJwk = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig'),
});
export type PublicJwk = Static<typeof PublicJwk>;

/** `GET /.well-known/jwks.json`. */
export const Jwks = Type.Object({ keys: Type.Array(PublicJwk) });
export type Jwks = Static<typeof Jwks>;
