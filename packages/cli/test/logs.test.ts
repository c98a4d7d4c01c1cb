import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { logsCommand, parseSince } from '../src/logs.ts';
import { UsageError } from '../src/usage.ts';

const root = mkdtempSync(join(tmpdir(), 'bazaar-logs-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TRACE = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

function line(service: string, time: string, msg: string, traceId?: string): string {
  return JSON.stringify({ level: 30, time, service, instance: `${service}-x`, msg, traceId });
}

function dataDir(): string {
  const dir = mkdtempSync(join(root, 'data-'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(
    join(dir, 'logs', 'catalog-1.jsonl'),
    `${[
      line('catalog', '2026-11-24T10:00:01.000Z', 'catalog first', TRACE),
      line('catalog', '2026-11-24T10:00:03.000Z', 'catalog second', OTHER),
    ].join('\n')}\n`,
  );
  writeFileSync(
    join(dir, 'logs', 'gateway-1.jsonl'),
    `${[
      line('gateway', '2026-11-24T10:00:02.000Z', 'gateway access', TRACE),
      'not json at all',
      line('gateway', '2026-11-24T10:00:04.000Z', 'gateway later'),
    ].join('\n')}\n`,
  );
  return dir;
}

async function run(argv: string[], options: Parameters<typeof logsCommand>[2] = {}) {
  let out = '';
  const code = await logsCommand(argv, (t) => (out += t), { colour: false, ...options });
  return { code, lines: out.trim().split('\n').filter(Boolean) };
}

test('every instance’s lines come merged in time order; a service, a trace or a time narrows them', async () => {
  const dir = dataDir();
  const all = await run(['--data-dir', dir]);
  assert.equal(all.code, 0);
  assert.deepEqual(
    all.lines.map((l) => /│ INFO {2}(\S+ \S+)/.exec(l)?.[1]),
    ['catalog first', 'gateway access', 'catalog second', 'gateway later'],
  );
  const gateway = await run(['gateway', '--data-dir', dir, '--json']);
  assert.deepEqual(
    gateway.lines.map((l) => JSON.parse(l).msg),
    ['gateway access', 'gateway later'],
  );
  const trace = await run(['--trace', TRACE, '--data-dir', dir, '--json']);
  assert.deepEqual(
    trace.lines.map((l) => JSON.parse(l).msg),
    ['catalog first', 'gateway access'],
  );
  const since = await run(['--since', '2026-11-24T10:00:03Z', '--data-dir', dir, '--json']);
  assert.deepEqual(
    since.lines.map((l) => JSON.parse(l).msg),
    ['catalog second', 'gateway later'],
  );
});

test('-f prints lines written after it started, including a new instance’s file, until stopped', async () => {
  const dir = dataDir();
  const stop = new AbortController();
  let out = '';
  const following = logsCommand(['orders', '-f', '--json', '--data-dir', dir], (t) => (out += t), {
    colour: false,
    signal: stop.signal,
    pollMs: 20,
  });
  await new Promise((r) => setTimeout(r, 60));
  writeFileSync(
    join(dir, 'logs', 'orders-1.jsonl'),
    `${line('orders', '2026-11-24T10:00:05.000Z', 'one')}\n`,
  );
  await new Promise((r) => setTimeout(r, 80));
  // A line written in two pieces is printed once, whole.
  appendFileSync(
    join(dir, 'logs', 'orders-1.jsonl'),
    line('orders', '2026-11-24T10:00:06.000Z', 'two').slice(0, 20),
  );
  await new Promise((r) => setTimeout(r, 80));
  appendFileSync(
    join(dir, 'logs', 'orders-1.jsonl'),
    `${line('orders', '2026-11-24T10:00:06.000Z', 'two').slice(20)}\n`,
  );
  await new Promise((r) => setTimeout(r, 80));
  stop.abort();
  assert.equal(await following, 0);
  assert.deepEqual(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).msg),
    ['one', 'two'],
  );
});

test('bad arguments are usage errors', async () => {
  const dir = dataDir();
  await assert.rejects(run(['--trace', 'xyz', '--data-dir', dir]), UsageError);
  await assert.rejects(run(['--since', 'yesterday', '--data-dir', dir]), UsageError);
  await assert.rejects(run(['a', 'b', '--data-dir', dir]), UsageError);
  await assert.rejects(run(['--data-dir', join(root, 'nowhere')]), UsageError);
  assert.equal(parseSince('10m', 1_000_000), 400_000);
});
