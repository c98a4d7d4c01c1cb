/**
 * Accounts and tokens for benchmarks, through the gateway's public API: log in, register test
 * customers.
 */
import { randomBytes } from 'node:crypto';
import { forEachLimited } from './common.ts';

export interface Credentials {
  email: string;
  password: string;
}

export interface Login {
  accessToken: string;
  /** When the access token expires, epoch ms (from `expiresIn`, taken when the request was sent). */
  expiresAt: number;
}

/** `POST <gatewayUrl>/api/auth/login`; throws unless it answers 200 with a bearer token. */
export async function login(gatewayUrl: string, credentials: Credentials): Promise<Login> {
  const sentAt = Date.now();
  const res = await fetch(`${gatewayUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email: credentials.email, password: credentials.password }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    accessToken?: string;
    tokenType?: string;
    expiresIn?: number;
  };
  if (res.status !== 200 || typeof body.accessToken !== 'string' || typeof body.expiresIn !== 'number') {
    throw new Error(`login of ${credentials.email} answered ${res.status}`);
  }
  if (body.tokenType !== 'Bearer') throw new Error(`login answered token type ${body.tokenType}`);
  return { accessToken: body.accessToken, expiresAt: sentAt + body.expiresIn * 1000 };
}

/**
 * Registers `count` new customers (`POST <gatewayUrl>/api/auth/register`), `concurrency` at a time,
 * with random passwords and emails unique to this run; throws unless every one answers 201.
 */
export async function registerCustomers(
  gatewayUrl: string,
  count: number,
  concurrency = 4,
): Promise<Credentials[]> {
  const run = randomBytes(4).toString('hex');
  const accounts = Array.from({ length: count }, (_, i) => ({
    email: `bench-${run}-${i}@example.com`,
    password: randomBytes(15).toString('base64url'),
  }));
  await forEachLimited(accounts, concurrency, async (account) => {
    const res = await fetch(`${gatewayUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...account, name: `Bench customer ${account.email.split('@')[0]}` }),
    });
    const text = await res.text();
    if (res.status !== 201) {
      throw new Error(`register ${account.email} answered ${res.status}: ${text.slice(0, 300)}`);
    }
  });
  return accounts;
}
