import type { System } from '../../packages/cli/src/system.ts';
import { rememberSecret } from '../support/secret-scan.ts';

/** A signed-in user of the running system. */
export interface Account {
  id: string;
  email: string;
  role: string;
  accessToken: string;
  refreshToken: string;
}

/** What `api` and `apiAt` send besides the method and path. */
export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** JSON request through the gateway; answers status, headers and parsed body. */
export function api(system: System, method: string, path: string, options: CallOptions = {}) {
  return apiAt(system.gatewayUrl, method, path, options);
}

/**
 * JSON request to any base URL (the gateway, or one service instance straight, bypassing the
 * gateway); answers status, headers and parsed body.
 */
export async function apiAt(baseUrl: string, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  rememberSecrets(options.body, body);
  return { status: res.status, headers: res.headers, body: body as Record<string, unknown>, text };
}

/** Passwords sent and tokens received are remembered, so the log scan at the system's stop looks for them. */
function rememberSecrets(sent: unknown, received: unknown): void {
  for (const value of [sent, received]) {
    if (!value || typeof value !== 'object') continue;
    for (const [key, field] of Object.entries(value)) {
      if (typeof field === 'string' && /password|token/i.test(key) && key !== 'paymentToken')
        rememberSecret(field);
    }
  }
}

/** Logs in and returns the account with its tokens. */
export async function login(system: System, email: string, password: string): Promise<Account> {
  const res = await api(system, 'POST', '/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${res.text}`);
  const tokens = res.body as { accessToken: string; refreshToken: string };
  const me = await api(system, 'GET', '/api/auth/me', { token: tokens.accessToken });
  if (me.status !== 200) throw new Error(`me of ${email} answered ${me.status}: ${me.text}`);
  const user = me.body as { id: string; role: string };
  return { id: user.id, email, role: user.role, ...tokens };
}

/** Registers a new account (customer or merchant) and logs it in. */
export async function signUp(system: System, name: string, role: 'customer' | 'merchant'): Promise<Account> {
  const email = `${name}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const password = `pw-${name}-correct-horse`;
  const res = await api(system, 'POST', '/api/auth/register', { body: { email, password, name, role } });
  if (res.status !== 201) throw new Error(`register ${email} answered ${res.status}: ${res.text}`);
  return login(system, email, password);
}

/** A base64url JSON segment of a JWT. */
export function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Signs a token with identity's real, current signing key, recovered the way identity does: the
 * sealing secret from the data folder, the sealed private key from identity's database. It stands
 * for an attacker who can mint with the right key but gets the claims wrong.
 */
export async function signWithIdentityKey(
  system: System,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const pg = (await import('pg')).default;
  const { importJWK, SignJWT } = await import('jose');
  const { deriveKey, open } = await import('../../services/identity/src/tokens/sealing.ts');
  const secret = (await readFile(join(system.dataDir, 'signing-key-secret'), 'utf8')).trim();
  const client = new pg.Client({ connectionString: system.cluster.url('identity') });
  await client.connect();
  try {
    const { rows } = await client.query<{ kid: string; private_jwk_sealed: string }>(
      `SELECT kid, private_jwk_sealed FROM signing_keys
       WHERE activates_at <= now() AND retires_at IS NULL ORDER BY activates_at DESC LIMIT 1`,
    );
    const row = rows[0]!;
    const jwk = JSON.parse(
      open(deriveKey(secret, 'signing-key-encryption'), row.private_jwk_sealed, row.kid),
    );
    const key = await importJWK(jwk, 'EdDSA');
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: row.kid, ...header })
      .sign(key);
  } finally {
    await client.end();
  }
}

/**
 * A real service token, as the service `from` gets it: its credential exchanged at identity for a
 * token addressed to `audience`. It stands for a caller inside the network that holds one.
 */
export async function exchangeServiceToken(system: System, from: string, audience: string): Promise<string> {
  const identity = system.supervisor.info('identity-1').url!;
  const res = await fetch(`${identity}/internal/service-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${system.credentials[from]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ audience }),
  });
  if (res.status !== 200) throw new Error(`service token ${from}→${audience} answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
