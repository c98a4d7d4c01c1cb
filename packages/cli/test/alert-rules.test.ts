import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type AlertRule, alertRules } from '@bazaar/kit';
import { PROMETHEUS_DIR, staleFiles } from '../src/alert-rules.ts';
import { prometheusFiles, RULES_FILE, TESTS_FILE } from '../src/prometheus-files.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const bazaar = (...args: string[]) =>
  spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });

const PROMTOOL = '/usr/bin/promtool';
const scratch = mkdtempSync(join(tmpdir(), 'bazaar-alert-rules-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Skips (or, in CI, fails) a test that needs promtool when the machine has none. */
function needsPromtool(t: { skip(message: string): void }): boolean {
  if (existsSync(PROMTOOL)) return true;
  if (process.env.CI) assert.fail(`${PROMTOOL} is missing: .ci/run installs Debian's prometheus package`);
  t.skip(`${PROMTOOL} is missing (apt-get install prometheus); not run`);
  return false;
}

function promtool(...args: string[]) {
  return spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000 });
}

/** Writes the files the rule list renders into a fresh folder and answers it. */
function written(rules: readonly AlertRule[]): string {
  const dir = mkdtempSync(join(scratch, 'out-'));
  for (const [name, text] of Object.entries(prometheusFiles(rules))) writeFileSync(join(dir, name), text);
  return dir;
}

describe('deploy/prometheus', () => {
  test('the committed files are what the rule list renders (`bazaar alert-rules --check`)', () => {
    assert.deepEqual(staleFiles(PROMETHEUS_DIR), [], 'run `npx bazaar alert-rules` and commit the result');
    const check = bazaar('alert-rules', '--check');
    assert.equal(check.status, 0, check.stderr);
  });

  test('--check exits 1 naming the files that differ; writing them makes it pass', () => {
    const dir = join(scratch, 'check');
    const stale = bazaar('alert-rules', '--check', '--out', dir);
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, new RegExp(`out of date.*${RULES_FILE.replaceAll('.', '\\.')}`));
    assert.equal(bazaar('alert-rules', '--out', dir).status, 0);
    assert.equal(bazaar('alert-rules', '--check', '--out', dir).status, 0);
    writeFileSync(join(dir, TESTS_FILE), '# edited by hand\n');
    const edited = bazaar('alert-rules', '--check', '--out', dir);
    assert.equal(edited.status, 1);
    assert.match(edited.stderr, new RegExp(TESTS_FILE.replaceAll('.', '\\.')));
  });

  test('promtool accepts the rules, and every rule passes its firing and its quiet case', (t) => {
    if (!needsPromtool(t)) return;
    const check = promtool('check', 'rules', join(PROMETHEUS_DIR, RULES_FILE));
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${alertRules.length} rules found`));
    const run = promtool('test', 'rules', join(PROMETHEUS_DIR, TESTS_FILE));
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /SUCCESS/);
  });

  test('promtool fails an example whose expected alerts are wrong', (t) => {
    if (!needsPromtool(t)) return;
    // Each rule's examples with the expectations swapped: the firing case now expects silence.
    const swapped = alertRules.map((rule) => ({
      ...rule,
      examples: rule.examples.map((e, i) => ({ ...e, firing: rule.examples[(i + 1) % 2]!.firing })),
    }));
    const run = promtool('test', 'rules', join(written(swapped), TESTS_FILE));
    assert.notEqual(run.status, 0);
    for (const rule of alertRules)
      assert.match(run.stdout + run.stderr, new RegExp(`alertname: ${rule.name}`));
  });
});
