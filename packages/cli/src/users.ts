import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from './secret-file.ts';

/** Name of the file, in the data folder, that keeps the generated accounts (mode 0600). */
export const BOOTSTRAP_USERS_FILE = 'credentials.json';

/** One generated account. */
export interface BootstrapAccount {
  email: string;
  password: string;
}

/** The accounts of a first start: `{"admin":{email,password}, "merchant":…, "customer":…}`. */
export type BootstrapUsers = Record<'admin' | 'merchant' | 'customer', BootstrapAccount>;

const ROLES = ['admin', 'merchant', 'customer'] as const;

/** A new random password: 18 random bytes in base64url (24 characters). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The admin, demo merchant and demo customer of a data folder, kept in `<dataDir>/credentials.json`
 * (mode 0600). Accounts missing from the file get a generated password and the file is rewritten;
 * `created` says so (the first start, when they are to be shown). Identity creates the accounts from
 * this file when they do not exist yet; there is no default password anywhere.
 */
export function loadOrCreateBootstrapUsers(dataDir: string): {
  file: string;
  users: BootstrapUsers;
  created: boolean;
} {
  const file = join(dataDir, BOOTSTRAP_USERS_FILE);
  const stored: Partial<BootstrapUsers> = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${file} must hold {"admin":{"email","password"},…}; fix or delete it`);
    }
    for (const role of ROLES) {
      const entry = (parsed as Record<string, Partial<BootstrapAccount> | undefined>)[role];
      if (
        typeof entry?.email === 'string' &&
        typeof entry.password === 'string' &&
        entry.password.length >= 10
      ) {
        stored[role] = { email: entry.email, password: entry.password };
      }
    }
  }
  let created = false;
  for (const role of ROLES) {
    if (!stored[role]) {
      stored[role] = { email: `${role}@bazaar.local`, password: newPassword() };
      created = true;
    }
  }
  const users = stored as BootstrapUsers;
  if (created) writeSecretFile(file, `${JSON.stringify(users, null, 2)}\n`);
  return { file, users, created };
}

/** The lines that show the generated accounts once, after `Bazaar is ready`. */
export function bootstrapUsersNotice(users: BootstrapUsers, file: string): string {
  const width = Math.max(...ROLES.map((role) => users[role].email.length));
  return [
    'Accounts created for this data folder (shown once; kept in the file below, mode 0600):',
    ...ROLES.map(
      (role) => `  ${role.padEnd(10)} ${users[role].email.padEnd(width)}  ${users[role].password}`,
    ),
    `  ${file}`,
    '',
  ].join('\n');
}
