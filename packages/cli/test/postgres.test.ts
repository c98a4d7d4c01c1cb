import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { removeDataDir } from '../src/data-dir.ts';
import { ensureSystemUser, firstUntraversableParent, runningAsRoot } from '../src/os-user.ts';
import { type EmbeddedCluster, startEmbeddedPostgres } from '../src/postgres.ts';
import { binariesUsableBy } from '../src/postgres-binaries.ts';
import { isAlive } from '../src/processes.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A temp data folder; `traversable` makes it 0755 (mkdtemp makes 0700). */
function tempDataDir(traversable: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-pg-'));
  if (traversable) chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'data');
}

/** Stops the cluster at the end even when an assertion failed. */
function track(cluster: EmbeddedCluster): EmbeddedCluster {
  cleanups.push(() => cluster.stop());
  return cluster;
}

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

test('starts a cluster, keeps port and data across restarts, and takes over one left running', async () => {
  const dataDir = tempDataDir(true);
  const first = track(await startEmbeddedPostgres({ dataDir }));
  assert.notEqual(first.port, 5432);
  assert.equal(readFileSync(join(dataDir, 'pg-port'), 'utf8').trim(), String(first.port));
  assert.equal(statSync(join(dataDir, 'pg-password')).mode & 0o777, 0o600);
  assert.ok(lstatSync(join(dataDir, 'postgres')).isDirectory());

  await Promise.all([
    first.ensureDatabase('shop'),
    first.ensureDatabase('shop'),
    first.ensureDatabase('shop'),
  ]);
  await first.ensureDatabase('shop');
  await query(first.url('shop'), 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
  const settings = await query(
    first.url('shop'),
    "SELECT current_setting('max_connections') AS max, current_setting('listen_addresses') AS listen, current_setting('password_encryption') AS enc",
  );
  assert.deepEqual(settings.rows[0], { max: '300', listen: '127.0.0.1', enc: 'scram-sha-256' });
  // No password, no entry.
  await assert.rejects(
    query(`postgresql://postgres:wrong@127.0.0.1:${first.port}/shop`, 'SELECT 1'),
    /password authentication failed/,
  );
  await first.stop();
  assert.equal(isAlive(first.pid), false);

  // A run's own server settings apply to that run only (they are not written to the cluster).
  const second = track(await startEmbeddedPostgres({ dataDir, settings: { work_mem: '8MB' } }));
  assert.equal(second.port, first.port);
  assert.deepEqual((await query(second.url('shop'), 'SELECT n FROM kept')).rows, [{ n: 42 }]);
  const workMem = "SELECT current_setting('work_mem') AS mem";
  assert.deepEqual((await query(second.url('shop'), workMem)).rows, [{ mem: '8MB' }]);
  await second.dropDatabase('shop');
  await second.stop();

  // A process starts the cluster and is killed with SIGKILL: PostgreSQL is left running.
  const holder = spawn(
    process.execPath,
    [fileURLToPath(new URL('./fixtures/hold-cluster.ts', import.meta.url)), dataDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: holder.stdout! }).once('line', resolve);
    holder.once('exit', (code) => reject(new Error(`hold-cluster exited early (${code})`)));
  });
  const orphan = JSON.parse(line) as { port: number; pid: number };
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  assert.ok(isAlive(orphan.pid), 'the orphaned postmaster still runs');
  cleanups.push(() => {
    if (isAlive(orphan.pid)) process.kill(orphan.pid, 'SIGKILL');
  });

  const notes: string[] = [];
  const third = track(await startEmbeddedPostgres({ dataDir, log: (l) => notes.push(l) }));
  assert.equal(isAlive(orphan.pid), false, 'the orphaned postmaster was stopped');
  assert.ok(notes.some((n) => n.includes('left running')));
  assert.notEqual(third.pid, orphan.pid);
  assert.deepEqual((await query(third.url('postgres'), 'SELECT 1 AS one')).rows, [{ one: 1 }]);
  assert.deepEqual((await query(third.url('postgres'), workMem)).rows, [{ mem: '4MB' }]);
  await third.stop();
  assert.equal(isAlive(third.pid), false);
});

test('as root, a cluster under a folder the postgres user cannot traverse is placed in /var/lib/bazaar', {
  skip: runningAsRoot() ? false : 'only meaningful as root',
}, async () => {
  const dataDir = tempDataDir(false); // mkdtemp: 0700, owned by root
  const cluster = track(await startEmbeddedPostgres({ dataDir }));
  cleanups.push(() => rmSync(cluster.clusterDir, { recursive: true, force: true }));
  const link = join(dataDir, 'postgres');
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.match(cluster.clusterDir, /^\/var\/lib\/bazaar\/[0-9a-f]{16}$/);
  assert.ok(existsSync(join(cluster.clusterDir, 'data', 'PG_VERSION')));
  assert.equal(statSync(join(cluster.clusterDir, 'data')).uid, statSync(cluster.clusterDir).uid);
  await cluster.ensureDatabase('x');
  assert.deepEqual((await query(cluster.url('x'), 'SELECT 2 AS two')).rows, [{ two: 2 }]);
  await cluster.stop();
  removeDataDir(dataDir);
  assert.equal(existsSync(cluster.clusterDir), false);
  assert.equal(existsSync(dataDir), false);
});

test('as root, binaries the postgres user cannot reach are copied to /var/lib/bazaar', {
  skip: runningAsRoot() ? false : 'only meaningful as root',
}, () => {
  const user = ensureSystemUser('postgres');
  const hidden = mkdtempSync(join(tmpdir(), 'bazaar-bin-')); // 0700: not traversable by postgres
  cleanups.push(() => rmSync(hidden, { recursive: true, force: true }));
  const bin = join(hidden, 'native', 'bin');
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(hidden, 'native', 'lib'));
  for (const name of ['initdb', 'pg_ctl', 'postgres'])
    writeFileSync(join(bin, name), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('libpq.so.5.18', join(hidden, 'native', 'lib', 'libpq.so.5'));
  const version = `test-${process.pid}`;
  const original = {
    initdb: join(bin, 'initdb'),
    pg_ctl: join(bin, 'pg_ctl'),
    postgres: join(bin, 'postgres'),
    version,
  };
  assert.equal(firstUntraversableParent(original.postgres, user), hidden);

  const usable = binariesUsableBy(original, user, () => undefined);
  cleanups.push(() => rmSync(dirname(dirname(usable.postgres)), { recursive: true, force: true }));
  assert.match(usable.postgres, /^\/var\/lib\/bazaar\/postgres-test-\d+-[a-z0-9]+-[a-z0-9]+\/bin\/postgres$/);
  assert.equal(firstUntraversableParent(usable.postgres, user), undefined);
  assert.equal(readlinkSync(join(dirname(dirname(usable.postgres)), 'lib', 'libpq.so.5')), 'libpq.so.5.18');
  // The installed binaries of this repository are reachable, so they are used where they are.
  assert.equal(
    binariesUsableBy(usable, user, () => undefined),
    usable,
  );
});
