import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repoRoot } from './repo-root.ts';

/** What `ensureWebBuild` found or did. */
export type WebBuild = 'fresh' | 'built' | 'absent';

/** The files whose change calls for a new build of the web app. */
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json'];

/**
 * Builds the web app (`web/`, React + Vite) into `web/dist`, which the gateway serves, when the
 * build is missing or older than any of its sources: a newcomer's `npm install && npm start`
 * serves the shop without another step, and a later start after an edit serves the edit.
 */
export async function ensureWebBuild(
  options: { root?: string; force?: boolean; write?: (text: string) => void } = {},
): Promise<WebBuild> {
  const webDir = join(options.root ?? repoRoot, 'web');
  if (!existsSync(join(webDir, 'package.json'))) return 'absent';
  const built = join(webDir, 'dist', 'index.html');
  if (!options.force && existsSync(built)) {
    const sources = Math.max(...SOURCES.map((s) => newestMtime(join(webDir, s))));
    if (statSync(built).mtimeMs >= sources) return 'fresh';
  }
  options.write?.('Building the web app (web/ → web/dist)…\n');
  let vitePackage: string;
  try {
    vitePackage = createRequire(join(webDir, 'package.json')).resolve('vite/package.json');
  } catch {
    throw new Error('Vite is not installed, so the web app cannot be built: run `npm install`.');
  }
  const vite = join(dirname(vitePackage), 'bin', 'vite.js');
  await run(process.execPath, [vite, 'build', '--logLevel', 'warn'], webDir);
  return 'built';
}

/** The newest modification time under `path` (a file or a folder), 0 when it does not exist. */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`the web app's build failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}
