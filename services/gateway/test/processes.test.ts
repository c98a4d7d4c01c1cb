import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { type ProcessControl, parentInStat, refusalToKill, systemProcesses } from '../src/ops/processes.ts';

const linux = process.platform === 'linux';

describe('reading /proc/<pid>/stat', () => {
  test('the parent is the field after the state, whatever the command name holds', () => {
    assert.equal(parentInStat('4242 (node) S 4000 4242 4000 0 -1 4194560'), 4000);
    assert.equal(parentInStat('4242 (we ird) (name)) R 17 4242 17 0'), 17);
    assert.equal(parentInStat('garbage'), undefined);
  });

  test('this process and a child of it, on this machine', { skip: !linux }, async () => {
    assert.equal(systemProcesses.parentOf(process.pid), process.ppid);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      assert.equal(systemProcesses.parentOf(child.pid!), process.pid);
      systemProcesses.kill(child.pid!);
      const [, signal] = await once(child, 'exit');
      assert.equal(signal, 'SIGKILL');
      assert.equal(systemProcesses.parentOf(child.pid!), undefined, 'a reaped process is gone');
    } finally {
      child.kill();
    }
  });
});

describe('which processes the console may kill', () => {
  const machine = (parents: Record<number, number>): ProcessControl => ({
    pid: 100,
    ppid: 10,
    parentOf: (pid) => parents[pid],
    kill: () => assert.fail('never kills while deciding'),
  });

  test('a sibling: another child of the supervisor that started the gateway', () => {
    assert.equal(refusalToKill(101, machine({ 101: 10 })), undefined);
  });

  test('never the gateway itself, nor a process of another parent, nor one that does not run', () => {
    assert.match(refusalToKill(100, machine({ 100: 10 }))!, /itself/);
    assert.match(refusalToKill(102, machine({ 102: 55 }))!, /not started by the supervisor/);
    assert.match(refusalToKill(10, machine({ 10: 1 }))!, /not started by the supervisor/);
    assert.match(refusalToKill(103, machine({}))!, /not running/);
  });

  test('an orphaned gateway (parent 1) kills nothing', () => {
    const orphan = { ...machine({ 101: 1 }), ppid: 1 };
    assert.match(refusalToKill(101, orphan)!, /not started by the supervisor/);
  });
});
