import { ACCESS_TOKEN_TTL_SECONDS } from '@bazaar/contracts';
import { CredentialCheck, defineService, type ServiceDefinition } from '@bazaar/kit';
import { type Static, Type } from 'typebox';
import { Accounts } from './accounts.ts';
import { identityAuth } from './auth.ts';
import { createBootstrapUsers } from './bootstrap-users.ts';
import { keyPolicy, tokenLifetimes } from './domain/keys.ts';
import { startHousekeeping } from './housekeeping.ts';
import { PasswordHasher } from './password-hasher.ts';
import { adminRoutes } from './routes/admin.ts';
import { authRoutes } from './routes/auth.ts';
import { internalRoutes } from './routes/internal.ts';
import { jwksRoutes } from './routes/jwks.ts';
import { Sessions } from './sessions.ts';
import { TokenIssuer } from './tokens/issuer.ts';
import { KeyRing } from './tokens/key-ring.ts';
import { TokenVerifier } from './tokens/verifier.ts';

/** Identity's own settings, on top of the kit's. */
const IdentityConfig = Type.Object({
  /** Seals the private signing keys at rest; keep it with the other secrets (32+ characters). */
  BAZAAR_SIGNING_KEY_SECRET: Type.String({ minLength: 32 }),
  /** JSON object of service name → SHA-256 hex of its credential (who may get service tokens). */
  BAZAAR_SERVICE_CREDENTIALS: Type.Optional(Type.String()),
  /** `credentials.json` written by `bazaar up`: accounts to create at start when missing. */
  BAZAAR_BOOTSTRAP_USERS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** The id the demo merchant account gets (the owner of catalog's seeded products). */
  BAZAAR_DEMO_MERCHANT_ID: Type.Optional(
    Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
  ),
  /**
   * How long a signing key signs before its successor takes over; it must exceed the publish lead
   * (2 × `BAZAAR_JWKS_REFRESH_MS` + 30 s), which start-up checks.
   */
  BAZAAR_KEY_ROTATION_HOURS: Type.Number({ minimum: 0.01, maximum: 8760, default: 24 }),
  /**
   * How long an access token lives (the contracts' 600 s by default; short only in tests). Service
   * tokens live 300 s or this, whichever is shorter; a retired key stays published this long + 60 s.
   */
  BAZAAR_ACCESS_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 30,
    maximum: 86_400,
    default: ACCESS_TOKEN_TTL_SECONDS,
  }),
});
type IdentityConfig = Static<typeof IdentityConfig>;

/**
 * Identity: accounts, logins and sessions (rotating refresh tokens), EdDSA access tokens with a
 * rotating JWKS, admin user management, service tokens for services, and the revocation list that
 * lets every verifier refuse the tokens of ended sessions and disabled users.
 */
export function identityService(): ServiceDefinition<IdentityConfig> {
  const hasher = new PasswordHasher();
  let keys: KeyRing | undefined;
  let housekeeping: { stop(): void } | undefined;
  return defineService<IdentityConfig>({
    name: 'identity',
    version: '0.1.0',
    migrations: new URL('../migrations/', import.meta.url),
    config: IdentityConfig,
    async seed(client, ctx) {
      const file = ctx.config.BAZAAR_BOOTSTRAP_USERS_FILE;
      if (!file) return;
      await createBootstrapUsers(client, {
        file,
        merchantId: ctx.config.BAZAAR_DEMO_MERCHANT_ID?.toLowerCase(),
        hasher,
        clock: ctx.clock,
        log: ctx.log,
      });
    },
    routes: (app, ctx) => {
      const { db, clock, log, config } = ctx;
      // One source for every timing: tokens live `lifetimes`, verifiers refresh the JWKS every
      // BAZAAR_JWKS_REFRESH_MS (the kit reads the same setting), and the key schedule follows both.
      const lifetimes = tokenLifetimes(config.BAZAAR_ACCESS_TOKEN_TTL_SECONDS);
      const policy = keyPolicy(config.BAZAAR_KEY_ROTATION_HOURS, {
        jwksRefreshMs: config.BAZAAR_JWKS_REFRESH_MS,
        lifetimes,
      });
      keys = new KeyRing({ db, secret: config.BAZAAR_SIGNING_KEY_SECRET, policy, clock, log });
      const credentials = CredentialCheck.fromJson(config.BAZAAR_SERVICE_CREDENTIALS);
      const issuer = new TokenIssuer({ keys, clock, lifetimes });
      const verifier = new TokenVerifier({ keys, clock });
      const sessions = new Sessions({ db, hasher, issuer, clock, log });
      const accounts = new Accounts({ db, hasher, sessions, clock });
      const auth = identityAuth({ verifier, db, credentials });
      authRoutes(app, { accounts, sessions, auth });
      adminRoutes(app, { accounts, auth });
      jwksRoutes(app, { keys, maxAgeSeconds: Math.ceil(config.BAZAAR_JWKS_REFRESH_MS / 1000) });
      internalRoutes(app, { db, issuer, auth, credentials, clock, accounts });
    },
    async onStart(ctx) {
      if (!keys) return;
      // A secret that cannot open the stored keys stops the start here, not at the first login.
      await keys.maintain();
      await keys.signingKey();
      await hasher.warmUp();
      housekeeping = startHousekeeping({ keys, db: ctx.db, clock: ctx.clock, log: ctx.log });
    },
    onStop: () => housekeeping?.stop(),
  });
}

export default identityService();
