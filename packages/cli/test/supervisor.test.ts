import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../src/processes.ts';
import { createSupervisor, type InstanceSpec, type Supervisor } from '../src/supervisor.ts';

const fixture = fileURLToPath(new URL('./fixtures/fake-service.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'bazaar-sup-'));
const supervisors: Supervisor[] = [];
after(async () => {
  await Promise.all(supervisors.map((s) => s.stopAll()));
  rmSync(root, { recursive: true, force: true });
});

function supervisor(
  name: string,
  options: { stopTimeoutMs?: number; output?: string[]; terminalLevel?: number } = {},
): Supervisor {
  const output = options.output;
  const s = createSupervisor({
    cwd: root,
    logDir: join(root, name, 'logs'),
    quiet: output === undefined,
    write: output ? (text) => void output.push(text) : undefined,
    colour: false,
    stopTimeoutMs: options.stopTimeoutMs,
    terminalLevel: options.terminalLevel,
    backoff: { initialMs: 100, maxMs: 1_000 },
  });
  supervisors.push(s);
  return s;
}

const instance = (slot: string, env: Record<string, string> = {}): InstanceSpec => ({
  slot,
  service: slot.replace(/-\d+$/, ''),
  entry: fixture,
  env,
});

test('announces ready, prints prefixed lines and writes JSON log files', async () => {
  const output: string[] = [];
  const s = supervisor('ready', { output });
  s.start([instance('catalog-1')]);
  const info = await s.waitReady('catalog-1', 10_000);
  assert.equal(info.slot, 'catalog-1');
  assert.equal(info.pid, s.pid('catalog-1'));
  assert.match(info.instanceId ?? '', /^catalog-[0-9a-f]{8}$/);
  assert.ok((info.port ?? 0) > 0);
  const env = (await (await fetch(`${info.url}/env`)).json()) as { env: Record<string, string> };
  assert.equal(env.env.BAZAAR_SLOT, 'catalog-1');
  await s.stopAll();

  const text = output.join('');
  assert.match(
    text,
    /^\d\d:\d\d:\d\d catalog-1 {2}│ INFO {2}catalog started url=http:\/\/127\.0\.0\.1:\d+ slot=catalog-1$/m,
  );
  assert.match(text, /catalog-1 {2}│ a plain stderr line$/m);
  const lines = readFileSync(join(root, 'ready', 'logs', 'catalog-1.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; stream?: string });
  assert.ok(records.some((r) => r.level === 30 && r.msg === 'catalog started'));
  assert.ok(records.some((r) => r.level === 50 && r.msg === 'a plain stderr line' && r.stream === 'stderr'));
});

test('a terminal level keeps lower lines off the terminal, not out of the files, until it is lowered', async () => {
  const output: string[] = [];
  const s = supervisor('level', { output, terminalLevel: 40 });
  s.start([instance('cart-1')]);
  await s.waitReady('cart-1', 10_000);
  await new Promise((r) => setTimeout(r, 200)); // the piped lines are a moment behind the ready message
  const before = output.join('');
  assert.doesNotMatch(before, /cart started/, 'an info line is not printed');
  assert.match(before, /cart-1 {5}│ a plain stderr line$/m, 'a line that is not pino JSON is');
  s.setTerminalLevel(0);
  await s.stopAll();
  assert.match(output.join(''), /cart-1 {5}│ INFO {2}stopping$/m, 'once lowered, info lines are printed');
  const file = readFileSync(join(root, 'level', 'logs', 'cart-1.jsonl'), 'utf8');
  assert.match(file, /"msg":"cart started"/);
});

test('restarts a killed instance, leaves a held one down, and stopAll leaves nothing alive', async () => {
  const s = supervisor('restart', { stopTimeoutMs: 1_000 });
  s.start([instance('registry-1')]);
  s.start([instance('catalog-1'), instance('catalog-2', { FAKE_IGNORE_SIGTERM: '1' })]);
  s.start([instance('gateway-1')]);
  await Promise.all(s.slots().map((slot) => s.waitReady(slot, 10_000)));
  assert.deepEqual(s.slots(), ['registry-1', 'catalog-1', 'catalog-2', 'gateway-1']);

  const before = s.info('catalog-1');
  const restarted = s.waitReady('catalog-1', 10_000);
  assert.ok(s.kill('catalog-1', 'SIGKILL'));
  const after = await restarted;
  assert.equal(after.restarts, before.restarts + 1);
  assert.notEqual(after.pid, before.pid);
  assert.notEqual(after.instanceId, before.instanceId);
  assert.equal(isAlive(before.pid!), false);

  // Held: killed and not restarted; released: started again.
  s.hold('gateway-1');
  const heldPid = s.pid('gateway-1')!;
  s.kill('gateway-1', 'SIGKILL');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(s.pid('gateway-1'), undefined);
  assert.equal(s.info('gateway-1').state, 'held');
  assert.equal(isAlive(heldPid), false);
  const back = s.waitReady('gateway-1', 10_000);
  s.release('gateway-1');
  assert.notEqual((await back).pid, heldPid);

  // stopSlot stops one slot and keeps it down.
  await s.stopSlot('registry-1');
  assert.equal(s.info('registry-1').state, 'held');

  // catalog-2 ignores SIGTERM: stopAll must SIGKILL it after the stop timeout.
  const pids = s
    .slots()
    .map((slot) => s.pid(slot))
    .filter((p): p is number => p !== undefined);
  assert.equal(pids.length, 3);
  await s.stopAll();
  for (const pid of pids) {
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
  }
  assert.ok(s.slots().every((slot) => s.info(slot).state === 'stopped' || s.info(slot).state === 'held'));
});

test('waitReady rejects once an instance keeps crashing before it is ready; restarts back off', async () => {
  const output: string[] = [];
  const s = supervisor('crash', { output });
  s.start([instance('orders-1', { FAKE_CRASH: '1' })]);
  await assert.rejects(s.waitReady('orders-1', 10_000, { maxCrashes: 3 }), (err: Error) => {
    assert.match(err.message, /orders-1 exited 3 time\(s\) before it became ready/);
    assert.match(err.message, /crashing at start as asked/);
    assert.match(err.message, /exit code 3/);
    return true;
  });
  assert.ok(s.info('orders-1').restarts >= 2);
  const delays = [...output.join('').matchAll(/restarting in ([\d.]+) s/g)].map((m) => Number(m[1]));
  assert.deepEqual(delays.slice(0, 3), [0.1, 0.2, 0.4]);
  await s.stopAll();
});
