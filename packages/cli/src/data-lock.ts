import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commandLineOf, isAlive } from './processes.ts';

/** A held lock on a data folder. */
export interface DataLock {
  /** Gives the lock up (removes the file if it is still ours). */
  release(): void;
}

/** Data folders locked by this process (a lock file naming our own pid may be a stale one from a recycled pid). */
const heldHere = new Set<string>();

/**
 * Takes `<dataDir>/bazaar.pid`, so two `bazaar up` never share a data folder (the second would
 * take over the first one's database). A file left by a process that has gone is taken over.
 */
export function lockDataDir(dataDir: string): DataLock {
  const folder = resolve(dataDir);
  const file = join(folder, 'bazaar.pid');
  if (heldHere.has(folder)) {
    throw new Error(
      `the data folder ${folder} is in use by another Bazaar (pid ${process.pid}, this process); stop it first`,
    );
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(folder);
      return {
        release: () => {
          heldHere.delete(folder);
          try {
            if (Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file, { force: true });
          } catch {
            // Already gone.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(file, 'utf8').trim());
    } catch {
      // Removed meanwhile: try again.
    }
    const commandLine = Number.isInteger(owner) ? commandLineOf(owner) : undefined;
    const ownerRuns =
      Number.isInteger(owner) &&
      owner !== process.pid &&
      isAlive(owner) &&
      (commandLine === undefined || /node/.test(commandLine));
    if (ownerRuns) {
      throw new Error(`the data folder ${folder} is in use by another Bazaar (pid ${owner}); stop it first`);
    }
    rmSync(file, { force: true });
  }
  throw new Error(`could not lock the data folder ${folder}`);
}
