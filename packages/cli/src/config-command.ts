import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ConfigDocument, type ConfigHistory, LiveConfigSchemas, type Problem } from '@bazaar/contracts';
import { diffConfig, formatDifference, schemaDefaults } from './config-diff.ts';
import { repoRoot } from './repo-root.ts';
import { table } from './status.ts';
import { UsageError } from './usage.ts';
import { BOOTSTRAP_USERS_FILE, type BootstrapUsers } from './users.ts';

/** One `bazaar config` subcommand, parsed. */
export type ConfigAction =
  | { kind: 'get'; service: string }
  | { kind: 'set'; service: string; source: string; reason: string; expect?: number }
  | { kind: 'history'; service: string }
  | { kind: 'rollback'; service: string; version: number; reason: string };

/** Options of {@link runConfig}. */
export interface ConfigOptions {
  /** The gateway's base URL. */
  gatewayUrl: string;
  /** The data folder whose `credentials.json` holds the admin's password. */
  dataDir: string;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
  /** Reads a `set`'s values: a file path, or `-` for standard input. */
  readSource?: (source: string) => Promise<string>;
  timeoutMs?: number;
}

/** A request the gateway refused, or could not be sent: printed, exit code 1. */
class ConfigFailure extends Error {
  override name = 'ConfigFailure';
}

/**
 * `bazaar config get|set|history|rollback`: the config center through the running gateway's ops
 * API, signed in as the admin of the data folder's `credentials.json`. Refusals are printed with
 * the problem's detail and each field it names; resolves with the exit code.
 */
export async function runConfig(action: ConfigAction, options: ConfigOptions): Promise<number> {
  const write = options.write ?? ((t: string) => void process.stdout.write(t));
  const writeError = options.writeError ?? ((t: string) => void process.stderr.write(t));
  const gateway = new Gateway(options.gatewayUrl.replace(/\/+$/, ''), options.timeoutMs ?? 10_000);
  try {
    await gateway.signIn(adminOf(options.dataDir));
    try {
      await perform(action, gateway, { write, writeError }, options.readSource ?? readSource);
    } finally {
      await gateway.signOut();
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigFailure)) throw err;
    writeError(`bazaar config: ${err.message}\n`);
    return 1;
  }
}

async function perform(
  action: ConfigAction,
  gateway: Gateway,
  { write, writeError }: { write: (text: string) => void; writeError: (text: string) => void },
  read: (source: string) => Promise<string>,
): Promise<void> {
  const path = `/api/ops/config/${encodeURIComponent(action.service)}`;
  switch (action.kind) {
    case 'get': {
      const document = await gateway.call<ConfigDocument>('GET', path);
      // The values alone on stdout, so `get > file`, an edit and `set file` round-trip.
      write(`${JSON.stringify(document.values, null, 2)}\n`);
      const never = ' (never set: the defaults; instances keep their environment settings)';
      writeError(
        `# ${document.service}: version ${document.version}${document.version === 0 ? never : ''}\n`,
      );
      return;
    }
    case 'set': {
      const values = parseValues(await read(action.source), action.source);
      const before = await gateway.call<ConfigDocument>('GET', path);
      // Without --expect the change goes on top of whatever is current now.
      const expectedVersion = action.expect ?? before.version;
      const document = await gateway.call<ConfigDocument>('PUT', path, {
        values,
        reason: action.reason,
        expectedVersion,
      });
      write(`${document.service}: version ${document.version}, pushed to its instances\n`);
      const changes = before.version === expectedVersion ? diffConfig(before.values, document.values) : [];
      for (const change of changes) write(`  ${formatDifference(change)}\n`);
      return;
    }
    case 'history': {
      const history = await gateway.call<ConfigHistory>('GET', `${path}/history`);
      if (history.items.length === 0) {
        write(`${action.service}: never changed (version 0: the defaults)\n`);
        return;
      }
      const schema = LiveConfigSchemas[action.service];
      const rows = history.items.map((item, i) => {
        const previous = history.items[i + 1]?.values ?? (schema ? schemaDefaults(schema) : {});
        const changes = diffConfig(previous, item.values).map(formatDifference);
        return [String(item.version), item.at, item.author, item.reason, changes.join('; ') || '(no change)'];
      });
      write(`${table(['VERSION', 'AT', 'AUTHOR', 'REASON', 'CHANGES'], rows)}\n`);
      return;
    }
    case 'rollback': {
      const document = await gateway.call<ConfigDocument>('POST', `${path}/rollback`, {
        version: action.version,
        reason: action.reason,
      });
      write(
        `${document.service}: version ${document.version} (equal to version ${action.version}), pushed to its instances\n`,
      );
      return;
    }
  }
}

/** The gateway's API as the admin: signs in, calls, signs out. */
class Gateway {
  readonly #base: string;
  readonly #timeoutMs: number;
  #tokens: { accessToken: string; refreshToken: string } | undefined;

  constructor(base: string, timeoutMs: number) {
    this.#base = base;
    this.#timeoutMs = timeoutMs;
  }

  async signIn(admin: { email: string; password: string }): Promise<void> {
    const res = await this.#send('POST', '/api/auth/login', admin, false);
    if (res.status === 401) {
      throw new ConfigFailure(
        `the gateway refused the admin's password from credentials.json (${admin.email}); ` +
          'if it was changed, run `bazaar admin reset-password`',
      );
    }
    this.#tokens = (await this.#answer(res)) as { accessToken: string; refreshToken: string };
  }

  async signOut(): Promise<void> {
    if (!this.#tokens) return;
    // Best effort: the session would expire by itself.
    await this.#send('POST', '/api/auth/logout', { refreshToken: this.#tokens.refreshToken }, true)
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
    this.#tokens = undefined;
  }

  async call<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    return (await this.#answer(await this.#send(method, path, body, true))) as T;
  }

  async #send(method: string, path: string, body: unknown, signedIn: boolean): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (signedIn && this.#tokens) headers.authorization = `Bearer ${this.#tokens.accessToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.#base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ConfigFailure(
        `the gateway at ${this.#base} is unreachable (${cause}). Is Bazaar running? Point to it with --gateway URL.`,
      );
    }
  }

  async #answer(res: Response): Promise<unknown> {
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.ok) return body;
    throw new ConfigFailure(describeProblem(res.status, body as Partial<Problem> | undefined));
  }
}

/** A refusal in words: title, status and code, the detail, and each field it names. */
export function describeProblem(status: number, problem: Partial<Problem> | undefined): string {
  if (!problem?.code) return `the gateway answered ${status} without saying why`;
  const lines = [
    `${problem.title ?? 'refused'} (${status} ${problem.code}): ${problem.detail ?? ''}`.trimEnd(),
  ];
  for (const error of problem.errors ?? []) lines.push(`  ${error.path}: ${error.message}`);
  if (problem.code === 'CONFIG_VERSION_CONFLICT') {
    lines.push('  read the current values with `bazaar config get`, then set again with --expect N');
  }
  return lines.join('\n');
}

/** The admin's email and password from the data folder's `credentials.json`. */
function adminOf(dataDir: string): { email: string; password: string } {
  const file = join(dataDir, BOOTSTRAP_USERS_FILE);
  if (!existsSync(file)) {
    throw new ConfigFailure(
      `no ${BOOTSTRAP_USERS_FILE} in ${dataDir}: has Bazaar been started there? (--data-dir DIR)`,
    );
  }
  let users: Partial<BootstrapUsers>;
  try {
    users = JSON.parse(readFileSync(file, 'utf8')) as Partial<BootstrapUsers>;
  } catch (err) {
    throw new ConfigFailure(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!users.admin?.email || !users.admin.password) throw new ConfigFailure(`${file} has no admin account`);
  return users.admin;
}

function parseValues(text: string, source: string): Record<string, unknown> {
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new ConfigFailure(
      `${source === '-' ? 'standard input' : source} is not valid JSON (${(err as Error).message})`,
    );
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigFailure('the values must be a JSON object (the whole new configuration)');
  }
  return values as Record<string, unknown>;
}

async function readSource(source: string): Promise<string> {
  if (source !== '-') {
    try {
      return await readFile(source, 'utf8');
    } catch (err) {
      throw new ConfigFailure(`cannot read ${source}: ${(err as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses `bazaar config <subcommand> …` into an action and where to find the system. */
export function parseConfigArgs(argv: string[]): {
  action: ConfigAction;
  gateway?: string;
  dataDir?: string;
} {
  let parsed: { values: Record<string, string | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        reason: { type: 'string' },
        expect: { type: 'string' },
        gateway: { type: 'string' },
        'data-dir': { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [sub, service, argument, ...extra] = positionals;
  if (!sub) throw new UsageError('config needs a subcommand: get, set, history or rollback');
  if (!service) throw new UsageError(`config ${sub} needs a service name`);
  const reason = () => {
    if (!values.reason?.trim()) throw new UsageError(`config ${sub} needs --reason "why"`);
    return values.reason;
  };
  const count = (name: string, text: string | undefined, min: number): number => {
    if (text === undefined || !/^\d+$/.test(text) || Number(text) < min)
      throw new UsageError(`${name} must be a whole number from ${min} (got ${text ?? 'nothing'})`);
    return Number(text);
  };
  const noMore = (allowed: number) => {
    if ([argument, ...extra].filter((p) => p !== undefined).length > allowed)
      throw new UsageError(`too many arguments for config ${sub}`);
  };
  let action: ConfigAction;
  switch (sub) {
    case 'get':
    case 'history':
      noMore(0);
      action = { kind: sub, service };
      break;
    case 'set':
      noMore(1);
      if (!argument)
        throw new UsageError('config set needs the values: a JSON file, or - for standard input');
      action = {
        kind: 'set',
        service,
        source: argument,
        reason: reason(),
        ...(values.expect === undefined ? {} : { expect: count('--expect', values.expect, 0) }),
      };
      break;
    case 'rollback':
      noMore(1);
      action = { kind: 'rollback', service, version: count('the version', argument, 1), reason: reason() };
      break;
    default:
      throw new UsageError(`unknown config command: ${sub}`);
  }
  return { action, gateway: values.gateway, dataDir: values['data-dir'] };
}

/** `bazaar config …`: parses its arguments and runs it. */
export async function configCommand(argv: string[]): Promise<number> {
  const { action, gateway, dataDir } = parseConfigArgs(argv);
  return runConfig(action, {
    gatewayUrl: gateway ?? `http://127.0.0.1:${process.env.BAZAAR_GATEWAY_PORT ?? '8080'}`,
    dataDir: dataDir ?? process.env.BAZAAR_DATA_DIR ?? join(repoRoot, '.data'),
  });
}
