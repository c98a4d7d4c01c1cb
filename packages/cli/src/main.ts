#!/usr/bin/env node
import { adminCommand } from './admin.ts';
import { statusCommand } from './status.ts';
import { upCommand } from './up.ts';
import { USAGE, UsageError } from './usage.ts';

/** Runs the `bazaar` command with `argv` (without node and script) and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'up':
        return await upCommand(rest);
      case 'status':
        return await statusCommand(rest);
      case 'admin':
        return await adminCommand(rest);
      case 'build-web': {
        const { ensureWebBuild } = await import('./web-build.ts');
        const result = await ensureWebBuild({
          force: rest.includes('--force'),
          write: (t) => process.stdout.write(t),
        });
        process.stdout.write(
          result === 'fresh'
            ? 'The web app is up to date (web/dist).\n'
            : result === 'built'
              ? 'Built web/dist.\n'
              : 'There is no web/ folder.\n',
        );
        return 0;
      }
      case 'logs':
        return await (await import('./logs.ts')).logsCommand(rest);
      case 'alert-rules':
        return await (await import('./alert-rules.ts')).alertRulesCommand(rest);
      case 'config':
        return await (await import('./config-command.ts')).configCommand(rest);
      case 'events':
        // Loaded on demand: it brings the kit, which no other command needs.
        return await (await import('./events.ts')).eventsCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        throw new UsageError(command === undefined ? 'no command given' : `unknown command: ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bazaar: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
  // Leave no handle (timers, sockets) keeping a finished command alive.
  process.exit();
}
