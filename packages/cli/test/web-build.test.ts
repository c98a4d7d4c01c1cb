import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureWebBuild } from '../src/web-build.ts';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function project(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'bazaar-web-build-'));
  roots.push(root);
  for (const [path, mtimeSeconds] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, path.endsWith('.json') ? '{}' : '');
    utimesSync(file, mtimeSeconds, mtimeSeconds);
  }
  // Folders count too (a deleted file changes its folder): make them old, like the files.
  for (const dir of readdirSync(root, { recursive: true, withFileTypes: true }))
    if (dir.isDirectory()) utimesSync(join(dir.parentPath, dir.name), 1000, 1000);
  return root;
}

test('a checkout without web/ has nothing to build', async () => {
  assert.equal(await ensureWebBuild({ root: project({ 'README.md': 1000 }) }), 'absent');
});

test('a build newer than every source is left as it is', async () => {
  const root = project({
    'web/package.json': 1000,
    'web/index.html': 1000,
    'web/src/main.tsx': 2000,
    'web/src/pages/deep/Page.tsx': 3000,
    'web/dist/index.html': 4000,
  });
  assert.equal(await ensureWebBuild({ root }), 'fresh');
});

test('a source newer than the build calls for a build (which fails here: no Vite in a bare folder)', async () => {
  const root = project({
    'web/package.json': 1000,
    'web/src/pages/deep/Page.tsx': 5000,
    'web/dist/index.html': 4000,
  });
  await assert.rejects(ensureWebBuild({ root }), /vite/i);
});
