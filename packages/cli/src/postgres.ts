import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { findFreePort, portIsFree } from './free-port.ts';
import { ensureSystemUser, firstUntraversableParent, runningAsRoot, type UserIds } from './os-user.ts';
import { binariesUsableBy, locatePostgresBinaries, SHARED_STATE_DIR } from './postgres-binaries.ts';
import { commandLineOf, isAlive, signalPid, terminateChild, waitForPidExit } from './processes.ts';
import { writeSecretFile } from './secret-file.ts';

/** A running embedded PostgreSQL cluster. */
export interface EmbeddedCluster {
  /** The TCP port it listens on (127.0.0.1 only). */
  port: number;
  /** The postmaster's pid. */
  pid: number;
  /** The cluster's real folder (`<dataDir>/postgres`, or where that link points). */
  clusterDir: string;
  /** A connection URL for `database`, as the superuser. */
  url(database: string): string;
  /** Creates `name` unless it exists (safe when called concurrently). */
  ensureDatabase(name: string): Promise<void>;
  /** Drops `name` if it exists, disconnecting its sessions. */
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown (SIGINT), SIGKILL after 15 s; resolves when the server has exited. */
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Bazaar's data folder; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** Port to listen on; default: the one kept in `<dataDir>/pg-port`, else a free one chosen now. */
  port?: number;
  /** Receives PostgreSQL's own log lines and our notes. */
  log?: (line: string) => void;
  /** How long to wait for the server to accept connections (default 30 s). */
  readyTimeoutMs?: number;
  /** Server settings for this run, each passed as `-c name=value` (benchmarks load pg_stat_statements). */
  settings?: Record<string, string>;
}

const SUPERUSER = 'postgres';
const OS_USER = 'postgres';
const STOP_TIMEOUT_MS = 15_000;
/** `sun_path` holds 108 bytes on Linux (104 on macOS); keep a margin. */
const MAX_SOCKET_PATH = 100;

/** Validates a database name and quotes it as an SQL identifier. */
function quoteDatabase(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(name))
    throw new Error(`invalid database name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

function chownTree(path: string, user: UserIds): void {
  lchownSync(path, user.uid, user.gid);
  for (const entry of readdirSync(path, { recursive: true }))
    lchownSync(join(path, String(entry)), user.uid, user.gid);
}

/**
 * The cluster's real folder. `<dataDir>/postgres` itself when the PostgreSQL user can reach it;
 * otherwise `/var/lib/bazaar/<sha256 of dataDir>` with `<dataDir>/postgres` a symlink to it.
 */
function prepareClusterDir(dataDir: string, user: UserIds | undefined, log: (line: string) => void): string {
  const link = join(dataDir, 'postgres');
  let clusterDir = link;
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(link);
  } catch {
    existing = undefined;
  }
  if (existing?.isSymbolicLink()) {
    clusterDir = resolve(dataDir, readlinkSync(link));
  } else if (existing && !existing.isDirectory()) {
    throw new Error(`${link} exists and is not a folder`);
  } else if (user) {
    const blocked = firstUntraversableParent(link, user);
    if (blocked) {
      if (existing) {
        throw new Error(
          `the PostgreSQL cluster in ${link} cannot be used: ${blocked} is not traversable by the "${OS_USER}" user ` +
            `(uid ${user.uid}); make it traversable (chmod o+x) or move the data folder`,
        );
      }
      const hash = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
      clusterDir = join(SHARED_STATE_DIR, hash);
      log(
        `${blocked} is not traversable by the "${OS_USER}" user: the cluster lives in ${clusterDir}, linked from ${link}`,
      );
      mkdirSync(SHARED_STATE_DIR, { recursive: true, mode: 0o755 });
      chmodSync(SHARED_STATE_DIR, 0o755);
      symlinkSync(clusterDir, link);
    }
  }
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (user) {
    const blocked = firstUntraversableParent(clusterDir, user);
    if (blocked)
      throw new Error(
        `${blocked} is not traversable by the "${OS_USER}" user, so ${clusterDir} cannot be used`,
      );
    if (statSync(clusterDir).uid !== user.uid) chownTree(clusterDir, user);
  }
  chmodSync(clusterDir, 0o700);
  return clusterDir;
}

function readPortFile(path: string): number | undefined {
  try {
    const port = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** Stops a postmaster left running on `pgData` by an earlier run that was killed. */
async function stopLeftover(pgData: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const commandLine = commandLineOf(pid);
  if (commandLine !== undefined && !commandLine.includes('postgres')) return; // a stale file whose pid was reused
  log(`a PostgreSQL server left running by an earlier run (pid ${pid}) holds ${pgData}: stopping it`);
  signalPid(pid, 'SIGINT');
  if (await waitForPidExit(pid, STOP_TIMEOUT_MS)) return;
  log(`PostgreSQL (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s: killing it`);
  signalPid(pid, 'SIGKILL');
  if (!(await waitForPidExit(pid, 5_000)))
    throw new Error(`could not stop the PostgreSQL server left running (pid ${pid})`);
}

/** The environment for PostgreSQL programs: ours without libpq's PG* variables, in the C locale. */
function postgresEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  return env;
}

function pipeLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
  }
}

async function initCluster(options: {
  initdb: string;
  clusterDir: string;
  pgData: string;
  password: string;
  user: UserIds | undefined;
  log: (line: string) => void;
}): Promise<void> {
  const { clusterDir, pgData, user, log } = options;
  rmSync(pgData, { recursive: true, force: true });
  const pwfile = join(clusterDir, '.initdb-password');
  writeFileSync(pwfile, options.password, { mode: 0o600 });
  if (user) lchownSync(pwfile, user.uid, user.gid);
  log(`initialising a new PostgreSQL cluster in ${pgData}`);
  const output: string[] = [];
  try {
    const child = spawn(
      options.initdb,
      [
        '-D',
        pgData,
        '-U',
        SUPERUSER,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ],
      { cwd: clusterDir, env: postgresEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) },
    );
    pipeLines(child, (line) => {
      output.push(line);
      log(line);
    });
    const code = await new Promise<number | null>((resolveExit, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolveExit(exitCode));
    });
    if (code !== 0) throw new Error(`initdb failed (exit ${code}):\n${output.slice(-15).join('\n')}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Creates the admin client used for database management. */
function adminClient(port: number, password: string, database = 'postgres'): pg.Client {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    password,
    database,
    connectionTimeoutMillis: 3_000,
  });
  client.on('error', () => undefined);
  return client;
}

async function withAdmin<T>(
  port: number,
  password: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = adminClient(port, password);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts (initialising at first use) the embedded PostgreSQL cluster of a Bazaar data folder,
 * as the unprivileged `postgres` user when running as root, and waits until it accepts connections.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedCluster> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const user = runningAsRoot() ? ensureSystemUser(OS_USER) : undefined;
  const clusterDir = prepareClusterDir(dataDir, user, log);
  const pgData = join(clusterDir, 'data');
  const runDir = join(clusterDir, 'run');

  let binaries = await locatePostgresBinaries();
  if (user) binaries = binariesUsableBy(binaries, user, log);

  const passwordFile = join(dataDir, 'pg-password');
  const initialised = existsSync(join(pgData, 'PG_VERSION'));
  let password: string;
  if (existsSync(passwordFile)) {
    password = readFileSync(passwordFile, 'utf8').trim();
    chmodSync(passwordFile, 0o600);
  } else if (initialised) {
    throw new Error(
      `${passwordFile} is missing, so the existing cluster in ${clusterDir} cannot be used; ` +
        'restore the file, or delete the cluster folder to start afresh (its data is lost)',
    );
  } else {
    password = randomBytes(24).toString('base64url');
    writeSecretFile(passwordFile, `${password}\n`);
  }

  const portFile = join(dataDir, 'pg-port');
  let port = options.port ?? readPortFile(portFile);
  if (port === undefined) {
    port = await findFreePort({ avoid: [5432] });
    writeFileSync(portFile, `${port}\n`);
  }

  await stopLeftover(pgData, log);
  if (!initialised) {
    await initCluster({ initdb: binaries.initdb, clusterDir, pgData, password, user, log });
  }
  if (!(await portIsFree(port))) {
    throw new Error(
      `port ${port} for the embedded PostgreSQL is in use by another program; ` +
        `choose another with BAZAAR_PG_PORT, or delete ${portFile} to pick a free one`,
    );
  }

  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  if (user) lchownSync(runDir, user.uid, user.gid);
  let socketDir = runDir;
  if (Buffer.byteLength(join(runDir, `.s.PGSQL.${port}`)) > MAX_SOCKET_PATH) {
    log(`the socket path under ${runDir} would be too long: PostgreSQL listens on TCP only`);
    socketDir = '';
  }

  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    log(line);
  };
  const child = spawn(
    binaries.postgres,
    [
      '-D',
      pgData,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'unix_socket_permissions=0700',
      '-c',
      'max_connections=300',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    // Its own process group: a Ctrl-C in the terminal reaches us, and we stop the database last.
    {
      cwd: clusterDir,
      env: postgresEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(user ?? {}),
    },
  );
  pipeLines(child, onLine);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  // If this process ends without stopping the cluster, ask PostgreSQL for a fast shutdown anyway.
  const onProcessExit = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      signalPid(child.pid, 'SIGINT');
  };
  process.once('exit', onProcessExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await terminateChild(child, { signal: 'SIGINT', timeoutMs: STOP_TIMEOUT_MS, group: true });
      process.off('exit', onProcessExit);
    })();
    return stopping;
  };

  try {
    await waitUntilAccepting({
      port,
      password,
      child,
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      failure: () => spawnError,
      recent,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  log(`PostgreSQL is ready on 127.0.0.1:${port} (pid ${child.pid})`);

  return {
    port,
    pid: child.pid!,
    clusterDir,
    url: (database) =>
      `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    ensureDatabase: async (name) => {
      const quoted = quoteDatabase(name);
      await withAdmin(port, password, async (client) => {
        // Concurrent callers queue on a lock (released when the session ends) instead of racing.
        await client.query("SELECT pg_advisory_lock(hashtext('bazaar:create-database'))");
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount) return;
        for (let attempt = 0; ; attempt++) {
          try {
            await client.query(`CREATE DATABASE ${quoted}`);
            return;
          } catch (err) {
            const code = (err as { code?: string }).code;
            // 42P04 duplicate_database; 23505 when a concurrent CREATE won the race on the catalog.
            if (code === '42P04' || code === '23505') return;
            // 55006: the template is briefly in use by another session; try again.
            if (code === '55006' && attempt < 20) {
              await new Promise((r) => setTimeout(r, 100));
              continue;
            }
            throw err;
          }
        }
      });
    },
    dropDatabase: async (name) => {
      const quoted = quoteDatabase(name);
      await withAdmin(port, password, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`),
      );
    },
    stop,
  };
}

async function waitUntilAccepting(options: {
  port: number;
  password: string;
  child: ChildProcess;
  timeoutMs: number;
  failure: () => Error | undefined;
  recent: string[];
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    const spawnError = options.failure();
    if (spawnError) throw new Error(`could not start PostgreSQL: ${spawnError.message}`);
    if (options.child.exitCode !== null || options.child.signalCode !== null) {
      const how =
        options.child.exitCode !== null ? `exit ${options.child.exitCode}` : options.child.signalCode;
      throw new Error(
        `PostgreSQL stopped during start-up (${how}):\n${options.recent.slice(-15).join('\n')}`,
      );
    }
    const client = adminClient(options.port, options.password);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '28P01') {
        throw new Error(
          'PostgreSQL refused the password kept in pg-password (the file does not match the cluster)',
        );
      }
      lastError = (err as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `PostgreSQL did not accept connections within ${options.timeoutMs / 1000} s (${lastError}):\n` +
          options.recent.slice(-15).join('\n'),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
