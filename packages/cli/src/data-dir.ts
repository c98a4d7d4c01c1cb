import { lstatSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Deletes a data folder, and the cluster folder its `postgres` link points to when the cluster had
 * to live elsewhere (`/var/lib/bazaar/<hash>`, see the embedded cluster). Stop the system first.
 */
export function removeDataDir(dataDir: string): void {
  const link = join(resolve(dataDir), 'postgres');
  try {
    if (lstatSync(link).isSymbolicLink())
      rmSync(resolve(dataDir, readlinkSync(link)), { recursive: true, force: true });
  } catch {
    // No cluster link: nothing outside the data folder.
  }
  rmSync(dataDir, { recursive: true, force: true });
}
