import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (this file is `packages/cli/src/repo-root.ts`). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
