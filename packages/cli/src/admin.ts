import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVICE_CREDENTIALS_FILE } from './credentials.ts';
import { repoRoot } from './repo-root.ts';
import { writeSecretFile } from './secret-file.ts';
import { UsageError } from './usage.ts';
import { BOOTSTRAP_USERS_FILE, type BootstrapUsers, newPassword } from './users.ts';

/** Options of {@link resetPassword}. */
export interface ResetPasswordOptions {
  dataDir: string;
  registryUrl: string;
  /** The account; default the admin of `credentials.json`. */
  email?: string;
  write?: (text: string) => void;
}

/**
 * `bazaar admin reset-password`: gives an account (the admin by default) a new generated password
 * through identity's break-glass route, which only identity's own credential opens; every session
 * of that account ends. The new password is printed once and kept in `credentials.json` when the
 * account is one of the generated ones. Needs the system running.
 */
export async function resetPassword(options: ResetPasswordOptions): Promise<number> {
  const write = options.write ?? ((t: string) => void process.stdout.write(t));
  const credentialsFile = join(options.dataDir, SERVICE_CREDENTIALS_FILE);
  if (!existsSync(credentialsFile)) {
    throw new UsageError(
      `no ${SERVICE_CREDENTIALS_FILE} in ${options.dataDir}: has Bazaar been started there?`,
    );
  }
  const credential = (JSON.parse(readFileSync(credentialsFile, 'utf8')) as Record<string, string>).identity;
  if (!credential) throw new UsageError('this data folder has no credential for identity');
  const usersFile = join(options.dataDir, BOOTSTRAP_USERS_FILE);
  const users = existsSync(usersFile)
    ? (JSON.parse(readFileSync(usersFile, 'utf8')) as BootstrapUsers)
    : undefined;
  const email = options.email ?? users?.admin.email;
  if (!email) throw new UsageError('give the account with --email');

  const identity = await findIdentity(options.registryUrl);
  const password = newPassword();
  const res = await fetch(`${identity}/internal/accounts/reset-password`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 204) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string };
    process.stderr.write(`bazaar: identity refused (${res.status}): ${problem.detail ?? 'no detail'}\n`);
    return 1;
  }
  const role =
    users && (Object.keys(users) as (keyof BootstrapUsers)[]).find((r) => users[r].email === email);
  if (users && role) {
    users[role].password = password;
    writeSecretFile(usersFile, `${JSON.stringify(users, null, 2)}\n`);
  }
  write(
    `New password for ${email} (shown once${role ? `; also kept in ${usersFile}` : ''}):\n  ${password}\n` +
      'Every session of this account has ended.\n',
  );
  return 0;
}

async function findIdentity(registryUrl: string): Promise<string> {
  for (const base of registryUrl.split(',').map((u) => u.trim().replace(/\/+$/, ''))) {
    try {
      const res = await fetch(`${base}/v1/services/identity`, { signal: AbortSignal.timeout(3_000) });
      if (res.status !== 200) continue;
      const service = (await res.json()) as { instances: { host: string; port: number; status: string }[] };
      const up = service.instances.find((i) => i.status === 'up');
      if (up) return `http://${up.host}:${up.port}`;
    } catch {
      // try the next registry
    }
  }
  throw new UsageError('no identity instance is up: start Bazaar first (npm start)');
}

/** Parses `bazaar admin <subcommand>` arguments and runs it. */
export async function adminCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'reset-password') throw new UsageError(`unknown admin command: ${sub ?? '(none)'}`);
  let values: { email?: string; 'data-dir'?: string; registry?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { email: { type: 'string' }, 'data-dir': { type: 'string' }, registry: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return resetPassword({
    dataDir: values['data-dir'] ?? process.env.BAZAAR_DATA_DIR ?? join(repoRoot, '.data'),
    registryUrl: values.registry ?? process.env.BAZAAR_REGISTRY_URL ?? 'http://127.0.0.1:8761',
    email: values.email,
  });
}
