import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Crash points for fault tests: when `BAZAAR_TEST_HOOK_DIR` is set and `BAZAAR_TEST_CRASH_AT` names
 * `point` (comma-separated list), the process kills itself with SIGKILL the first time it reaches
 * that point — a marker file in the hook folder keeps the restarted process from crashing again.
 * Without both variables this does nothing, so production never crashes here.
 */
export function crashPoint(point: string, env: NodeJS.ProcessEnv = process.env): void {
  const dir = env.BAZAAR_TEST_HOOK_DIR;
  const points = env.BAZAAR_TEST_CRASH_AT;
  if (!dir || !points) return;
  if (!points.split(',').some((p) => p.trim() === point)) return;
  const marker = join(dir, `crashed-at-${point.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  if (existsSync(marker)) return;
  writeFileSync(marker, `${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}
