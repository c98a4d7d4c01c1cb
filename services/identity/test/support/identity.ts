import { createHash } from 'node:crypto';
import type { TokenPair } from '@bazaar/contracts';
import { buildApp, migrate, readMigrations } from '@bazaar/kit';
import { createTestDatabase, ManualClock } from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { identityService } from '../../src/service.ts';

/** Service credentials the test identity accepts. */
export const CREDENTIALS = {
  catalog: 'bzc_catalog_test-credential-of-catalog-000000',
  payments: 'bzc_payments_test-credential-of-payments-0000',
  identity: 'bzc_identity_test-credential-of-identity-0000',
};
export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

/** SHA-256 hex of each credential, as `BAZAAR_SERVICE_CREDENTIALS` carries them. */
export function credentialHashes(credentials: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(credentials).map(([s, c]) => [s, createHash('sha256').update(c).digest('hex')]),
    ),
  );
}

/** The environment of a test identity. */
export function identityEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    BAZAAR_SIGNING_KEY_SECRET: SIGNING_SECRET,
    BAZAAR_SERVICE_CREDENTIALS: credentialHashes(CREDENTIALS),
    BAZAAR_LOG_LEVEL: 'silent',
    ...extra,
  };
}

/** A fresh database with identity's migrations applied. */
export async function identityDatabase() {
  const database = await createTestDatabase('identity_test');
  const pool = new pg.Pool({ connectionString: database.url, max: 10 });
  await migrate(pool, {
    service: 'identity',
    migrations: await readMigrations(new URL('../../migrations/', import.meta.url)),
    log: pino({ level: 'silent' }),
  });
  return {
    url: database.url,
    pool,
    async drop() {
      // DROP … WITH (FORCE) may still find a backend the pool is closing; its error is expected.
      pool.on('error', () => {});
      await pool.end();
      await database.drop();
    },
  };
}

/** An identity app on `pool` driven with `inject()`, with an injected clock. */
export async function identityApp(
  pool: pg.Pool,
  options: { clock?: ManualClock; env?: Record<string, string> } = {},
) {
  const clock = options.clock ?? new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  const { app } = await buildApp(identityService(), { env: identityEnv(options.env), db: pool, clock });
  return { app, clock };
}

/** Small request helpers over `inject()`. */
export function client(app: FastifyInstance) {
  const send = async (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, token?: string) => {
    const res = await app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return res;
  };
  return {
    send,
    register: (email: string, password = 'correct horse battery', extra: Record<string, unknown> = {}) =>
      send('POST', '/api/auth/register', { email, password, name: 'Test User', ...extra }),
    async login(email: string, password = 'correct horse battery'): Promise<TokenPair> {
      const res = await send('POST', '/api/auth/login', { email, password });
      if (res.statusCode !== 200) throw new Error(`login answered ${res.statusCode}: ${res.body}`);
      return res.json<TokenPair>();
    },
    refresh: (refreshToken: string) => send('POST', '/api/auth/refresh', { refreshToken }),
    me: (token: string) => send('GET', '/api/auth/me', undefined, token),
  };
}
