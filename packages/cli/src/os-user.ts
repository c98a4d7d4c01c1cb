import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A user's numeric ids, as given to `spawn({ uid, gid })`. */
export interface UserIds {
  uid: number;
  gid: number;
}

/** Whether this process runs as root (PostgreSQL refuses to). */
export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function lookup(name: string): UserIds | undefined {
  try {
    const uid = Number(
      execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function groupExists(name: string): boolean {
  try {
    execFileSync('getent', ['group', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The ids of system user `name`, creating it (`useradd --system`) when it does not exist. */
export function ensureSystemUser(name: string): UserIds {
  const existing = lookup(name);
  if (existing) return existing;
  const groupFlag = groupExists(name) ? ['-g', name] : ['--user-group'];
  try {
    execFileSync('useradd', ['--system', '--no-create-home', ...groupFlag, name], { stdio: 'pipe' });
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`could not create the system user "${name}" for PostgreSQL: ${detail}`);
  }
  const created = lookup(name);
  if (!created) throw new Error(`the system user "${name}" was created but cannot be found`);
  return created;
}

/**
 * Whether `user` may use permission `bit` (1 = execute/search, 2 = write, 4 = read) on `path`,
 * from its mode bits. Spawned children keep only their primary group, so that is the group checked.
 */
export function userHasAccess(path: string, user: UserIds, bit: 1 | 2 | 4): boolean {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return false;
  }
  if (user.uid === 0) return true;
  const mode = stat.mode;
  if (stat.uid === user.uid) return ((mode >> 6) & bit) !== 0;
  if (stat.gid === user.gid) return ((mode >> 3) & bit) !== 0;
  return (mode & bit) !== 0;
}

/**
 * The first existing ancestor folder of `path` (the path itself excluded) that `user` cannot
 * traverse, or undefined when every one of them can be.
 */
export function firstUntraversableParent(path: string, user: UserIds): string | undefined {
  let current = dirname(resolve(path));
  for (;;) {
    if (!userHasAccess(current, user, 1)) {
      try {
        statSync(current);
        return current;
      } catch {
        // Does not exist yet: it will be created, check its parent.
      }
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}
