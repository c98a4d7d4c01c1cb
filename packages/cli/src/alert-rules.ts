import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { alertRules } from '@bazaar/kit';
import { prometheusFiles } from './prometheus-files.ts';
import { repoRoot } from './repo-root.ts';
import { UsageError } from './usage.ts';

/** Where the generated Prometheus files live. */
export const PROMETHEUS_DIR = join(repoRoot, 'deploy', 'prometheus');

/** The files of `dir` that differ from what the rule list renders (missing ones included). */
export function staleFiles(dir: string): string[] {
  return Object.entries(prometheusFiles(alertRules))
    .filter(([name, text]) => {
      const file = join(dir, name);
      return !existsSync(file) || readFileSync(file, 'utf8') !== text;
    })
    .map(([name]) => name);
}

/**
 * `bazaar alert-rules [--check] [--out DIR]`: writes `deploy/prometheus/` from the kit's rule
 * list, or with `--check` exits 1 when the files there differ from it.
 */
export async function alertRulesCommand(args: string[]): Promise<number> {
  let values: { check?: boolean; out?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { check: { type: 'boolean' }, out: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dir = values.out ?? PROMETHEUS_DIR;
  const shown = relative(process.cwd(), dir) || '.';
  if (values.check) {
    const stale = staleFiles(dir);
    if (stale.length === 0) {
      process.stdout.write(`${shown} matches the alert rules.\n`);
      return 0;
    }
    process.stderr.write(
      `${shown} is out of date with packages/kit/src/alerts/rules.ts: ${stale.join(', ')}\n` +
        'Run `npx bazaar alert-rules` to write it again.\n',
    );
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(prometheusFiles(alertRules)))
    writeFileSync(join(dir, name), text);
  process.stdout.write(`Wrote ${alertRules.length} alert rules and their tests to ${shown}.\n`);
  return 0;
}
