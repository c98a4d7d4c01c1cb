import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { paint } from './log-format.ts';
import { signalPid } from './processes.ts';
import { repoRoot } from './repo-root.ts';
import { type StartSystemOptions, type System, startSystem } from './system.ts';
import { UsageError } from './usage.ts';
import { bootstrapUsersNotice } from './users.ts';
import { ensureWebBuild } from './web-build.ts';

/** Parses `--replicas catalog=3,gateway=2` (the flag may be repeated). */
export function parseReplicas(values: readonly string[]): Record<string, number> {
  const replicas: Record<string, number> = {};
  for (const part of values.flatMap((v) => v.split(','))) {
    const match = /^\s*([a-z][a-z0-9-]*)\s*=\s*(\d+)\s*$/.exec(part);
    if (!match) throw new UsageError(`--replicas expects service=count[,service=count...] (got "${part}")`);
    replicas[match[1]!] = Number(match[2]);
  }
  return replicas;
}

function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`${flag} expects a port number (got "${value}")`);
  return port;
}

/** The start options `bazaar up` was given. */
export function parseUpArgs(argv: string[]): StartSystemOptions {
  let values: {
    replicas?: string[];
    'data-dir'?: string;
    'gateway-port'?: string;
    'registry-port'?: string;
    'log-level'?: string;
    verbose?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        replicas: { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        'gateway-port': { type: 'string' },
        'registry-port': { type: 'string' },
        'log-level': { type: 'string' },
        verbose: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const logLevel = values['log-level'];
  if (
    logLevel !== undefined &&
    !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)
  ) {
    throw new UsageError(
      `--log-level expects fatal, error, warn, info, debug, trace or silent (got "${logLevel}")`,
    );
  }
  return {
    dataDir: values['data-dir'] ?? process.env.BAZAAR_DATA_DIR ?? join(repoRoot, '.data'),
    replicas: parseReplicas(values.replicas ?? []),
    gatewayPort: parsePort(values['gateway-port'], '--gateway-port'),
    registryPort: parsePort(values['registry-port'], '--registry-port'),
    logLevel,
    // Until ready, the terminal shows warnings and errors only: a start's ~200 info lines (migrations,
    // the demo stock's requests) go to the log files, and the banner is not lost among them.
    terminalLevel: values.verbose ? 0 : STARTUP_TERMINAL_LEVEL,
  };
}

/** pino's `warn`: the lowest level printed while the system starts, without `--verbose`. */
const STARTUP_TERMINAL_LEVEL = 40;

/** The block printed once every instance is ready. */
export function readyBanner(system: System, startedInMs: number, colour: boolean): string {
  const gateway = new URL(system.gatewayUrl);
  const registry = new URL(system.registryUrl);
  const gw = `http://localhost:${gateway.port}`;
  const rows: [string, string][] = [
    ['shop', `${gw}/`],
    ['API', `${gw}/api/products`],
    ['API docs', `${gw}/api/docs`],
    ['registry', `http://localhost:${registry.port}/v1/services`],
    ['data', system.dataDir],
    ['logs', system.logDir],
    ['instances', system.instances.map((i) => i.slot).join(', ')],
  ];
  const gateways = system.instances.filter((i) => i.service === 'gateway');
  if (gateways.length > 1) {
    rows.splice(3, 0, ['gateways', gateways.map((i) => `http://localhost:${i.port}/`).join(', ')]);
  }
  return [
    paint('Bazaar is ready', 1, colour),
    `  started in ${(startedInMs / 1000).toFixed(1)} s`,
    ...rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`),
    '  Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

/**
 * `bazaar up`: starts the embedded system, prints where it is, and stops it cleanly on SIGINT or
 * SIGTERM (a second one, at least half a second later, kills everything at once). Resolves with the exit code.
 */
export async function upCommand(argv: string[]): Promise<number> {
  const options = parseUpArgs(argv);
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const write = (text: string) => void process.stdout.write(text);
  const started = performance.now();
  const controller = new AbortController();
  let system: System | undefined;
  let firstSignalAt = 0;
  let finished: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    finished = r;
  });

  const shutdown = () => {
    const running = system;
    if (!running) return;
    void running.stop().then(
      () => {
        write('Bazaar stopped.\n');
        finished(0);
      },
      (err: unknown) => {
        process.stderr.write(`bazaar: error while stopping: ${(err as Error).message}\n`);
        finished(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt === 0) {
      firstSignalAt = now;
      write(
        `\n${signal}: stopping Bazaar: gateway, services, registry, then the database (Ctrl-C again to force)\n`,
      );
      controller.abort();
      shutdown();
      return;
    }
    // `npm start` forwards the terminal's Ctrl-C, so one key press can arrive twice at once.
    if (now - firstSignalAt < 500) return;
    write('Forced stop: killing every process.\n');
    system?.supervisor.killAll();
    if (system) signalPid(-system.cluster.pid, 'SIGKILL') || signalPid(system.cluster.pid, 'SIGKILL');
    // Exit hooks kill whatever is still starting.
    process.exit(1);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  try {
    await ensureWebBuild({ write });
  } catch (err) {
    // The API runs without the web app; the gateway's landing page says how to build it.
    process.stderr.write(`bazaar: ${(err as Error).message}\n`);
  }
  write(
    `Starting Bazaar (data in ${options.dataDir})…${options.terminalLevel ? ' (until ready, only warnings and errors show here; every line is in logs/, --verbose prints all)' : ''}\n`,
  );
  try {
    system = await startSystem({ ...options, signal: controller.signal });
  } catch (err) {
    if (controller.signal.aborted) {
      write('Bazaar stopped before it was ready.\n');
      return 0;
    }
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  if (controller.signal.aborted) {
    shutdown();
    return done;
  }
  const startedInMs = performance.now() - started;
  // Let the children's last start-up lines (piped, so a moment behind their ready message) print first.
  await new Promise((r) => setTimeout(r, 150));
  if (controller.signal.aborted) return done;
  write(`\n${readyBanner(system, startedInMs, colour)}\n`);
  // From here on, every line at the instances' own level: the shop's requests as they come.
  system.supervisor.setTerminalLevel(0);
  // The generated accounts are printed once, at the start that created them.
  if (system.bootstrapUsers?.firstStart) {
    write(`\n${bootstrapUsersNotice(system.bootstrapUsers.users, system.bootstrapUsers.file)}\n`);
  }
  return done;
}
