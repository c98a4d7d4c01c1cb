import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Role } from '@bazaar/contracts';
import type { Clock } from '@bazaar/kit';
import type { Logger } from 'pino';
import { emailProblem, normalizeEmail, passwordProblem } from './domain/account-rules.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { Queryable } from './store/db.ts';
import { findUserByEmail, insertUser } from './store/users.ts';

/** The accounts `bazaar up` generates at first start, in the order they are made. */
const BOOTSTRAP: readonly { role: Role; name: string }[] = [
  { role: 'admin', name: 'Bazaar Admin' },
  { role: 'merchant', name: 'Demo Merchant' },
  { role: 'customer', name: 'Demo Customer' },
];

/**
 * Creates the accounts of the bootstrap file (`{"admin":{"email","password"}, "merchant":…,
 * "customer":…}`) that do not exist yet, by email; an existing account is left as it is (its password
 * may have been changed since). The merchant gets `merchantId`, the owner of the seeded products.
 * Runs under the migration lock, so replicas starting together create each account once.
 */
export async function createBootstrapUsers(
  db: Queryable,
  options: { file: string; merchantId?: string; hasher: PasswordHasher; clock: Clock; log: Logger },
): Promise<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(options.file, 'utf8'));
  } catch (err) {
    throw new Error(`BAZAAR_BOOTSTRAP_USERS_FILE ${options.file} cannot be read: ${(err as Error).message}`);
  }
  const entries = (parsed ?? {}) as Record<string, { email?: unknown; password?: unknown } | undefined>;
  const created: string[] = [];
  for (const { role, name } of BOOTSTRAP) {
    const entry = entries[role];
    if (entry === undefined) continue;
    if (typeof entry?.email !== 'string' || typeof entry.password !== 'string') {
      throw new Error(`BAZAAR_BOOTSTRAP_USERS_FILE: "${role}" needs a string email and password`);
    }
    const email = normalizeEmail(entry.email);
    const problem = emailProblem(email) ?? passwordProblem(entry.password);
    if (problem) throw new Error(`BAZAAR_BOOTSTRAP_USERS_FILE: the ${role}'s email or password ${problem}`);
    if (await findUserByEmail(db, email)) continue;
    const user = await insertUser(db, {
      id: role === 'merchant' && options.merchantId ? options.merchantId : randomUUID(),
      email,
      name,
      role,
      passwordHash: await options.hasher.hash(entry.password),
      at: new Date(options.clock.now()),
    });
    if (user) created.push(email);
    else
      options.log.warn({ role, email }, 'bootstrap account not created: its id is taken by another account');
  }
  if (created.length > 0) options.log.info({ accounts: created }, 'bootstrap accounts created');
  return created;
}
