import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDataDir } from '../../packages/cli/src/data-dir.ts';
import { type EmbeddedCluster, startEmbeddedPostgres } from '../../packages/cli/src/postgres.ts';

let cluster: EmbeddedCluster | undefined;
let dataDir: string | undefined;

/**
 * Before the unit and integration suites: when `BAZAAR_TEST_PG_URL` is not given (CI gives the
 * machine's PostgreSQL), start an embedded cluster for the run and hand its URL to every test file.
 */
export async function globalSetup(): Promise<void> {
  if (process.env.BAZAAR_TEST_PG_URL) {
    console.log(`tests use PostgreSQL at ${redact(process.env.BAZAAR_TEST_PG_URL)}`);
    return;
  }
  dataDir = await mkdtemp(join(tmpdir(), 'bazaar-test-pg-'));
  cluster = await startEmbeddedPostgres({ dataDir });
  process.env.BAZAAR_TEST_PG_URL = cluster.url('postgres');
  console.log(
    `tests use an embedded PostgreSQL on port ${cluster.port} (set BAZAAR_TEST_PG_URL to use another)`,
  );
}

export async function globalTeardown(): Promise<void> {
  await cluster?.stop();
  if (dataDir) await removeDataDir(dataDir);
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@/]+@/, '://$1:***@');
}
