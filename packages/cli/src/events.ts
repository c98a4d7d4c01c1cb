import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DeadLetter, listDeadLetters, requestRedrive } from '@bazaar/kit';
import pg from 'pg';
import { repoRoot } from './repo-root.ts';
import { services } from './services.ts';
import { UsageError } from './usage.ts';

/** One service database to look in: its name and URL. */
interface Target {
  service: string;
  url: string;
}

/**
 * The databases of the embedded cluster of `dataDir` (its port and password are kept there), or the
 * one `--database` URL given for production.
 */
function targets(dataDir: string, only: string | undefined, databaseUrl: string | undefined): Target[] {
  if (databaseUrl) return [{ service: only ?? 'service', url: databaseUrl }];
  const portFile = join(dataDir, 'pg-port');
  const passwordFile = join(dataDir, 'pg-password');
  if (!existsSync(portFile) || !existsSync(passwordFile)) {
    throw new UsageError(`no embedded cluster in ${dataDir}: start Bazaar first, or give --database URL`);
  }
  const port = readFileSync(portFile, 'utf8').trim();
  const password = encodeURIComponent(readFileSync(passwordFile, 'utf8').trim());
  const known = services.filter((s) => s.database).map((s) => s.database!);
  if (only && !known.includes(only))
    throw new UsageError(`unknown service: ${only} (known: ${known.join(', ')})`);
  return known
    .filter((db) => !only || db === only)
    .map((db) => ({ service: db, url: `postgresql://postgres:${password}@127.0.0.1:${port}/${db}` }));
}

async function withPool<T>(url: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 3_000 });
  pool.on('error', () => undefined);
  try {
    return await fn(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

function describe(service: string, letter: DeadLetter): string {
  const state = letter.redrivenAt ? 'redriven' : letter.redriveRequestedAt ? 'redrive requested' : 'dead';
  return (
    `${service.padEnd(10)} #${String(letter.id).padEnd(5)} ${letter.consumer.padEnd(28)} ${letter.type.padEnd(28)} ` +
    `${letter.attempts} attempts, ${state}, failed ${new Date(letter.failedAt).toISOString()}\n` +
    `${' '.repeat(17)}event ${letter.eventId}: ${letter.error.split('\n')[0]}\n`
  );
}

/**
 * `bazaar events dead` lists every service's dead letters; `bazaar events redrive [--service S]
 * [--id N]` asks the services to process them again (the instances pick the request up within
 * seconds). Needs the embedded cluster running, or `--database URL` of one service.
 */
export async function eventsCommand(argv: string[], write = (t: string) => void process.stdout.write(t)) {
  const [sub, ...rest] = argv;
  if (sub !== 'dead' && sub !== 'redrive') throw new UsageError(`unknown events command: ${sub ?? '(none)'}`);
  let values: { service?: string; id?: string; 'data-dir'?: string; database?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        service: { type: 'string' },
        id: { type: 'string' },
        'data-dir': { type: 'string' },
        database: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const id = values.id === undefined ? undefined : Number(values.id);
  if (id !== undefined && (!Number.isInteger(id) || id < 1))
    throw new UsageError('--id expects a dead letter number');
  if (id !== undefined && !values.service && !values.database) throw new UsageError('--id needs --service');
  const dataDir = values['data-dir'] ?? process.env.BAZAAR_DATA_DIR ?? join(repoRoot, '.data');
  let total = 0;
  for (const target of targets(dataDir, values.service, values.database)) {
    await withPool(target.url, async (pool) => {
      if (sub === 'dead') {
        const letters = await listDeadLetters(pool);
        for (const letter of letters) write(describe(target.service, letter));
        total += letters.filter((l) => !l.redrivenAt).length;
      } else {
        total += await requestRedrive(pool, id === undefined ? {} : { id });
      }
    });
  }
  write(sub === 'dead' ? `${total} dead letters waiting\n` : `redrive requested for ${total} dead letters\n`);
  return 0;
}
