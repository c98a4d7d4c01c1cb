import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists and is not a zombie (signal 0; EPERM means it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // `pid (comm) S ...`: a zombie (Z) has exited and only waits to be reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** The command line of a live process (Linux `/proc`), or undefined when it cannot be read. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`, ignoring a process that has already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true when the pid has gone, false if it is still alive after `timeoutMs`. */
export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Resolves true when the child has exited, false after `timeoutMs` (never rejects). */
export function waitForChildExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Stops a child: `signal` first, then SIGKILL (to its whole process group when it leads one) if it
 * is still there after `timeoutMs`. Resolves once it has exited.
 */
export async function terminateChild(
  child: ChildProcess,
  options: { signal?: NodeJS.Signals; timeoutMs: number; group?: boolean },
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  signalPid(pid, options.signal ?? 'SIGTERM');
  if (await waitForChildExit(child, options.timeoutMs)) return;
  if (!(options.group && signalPid(-pid, 'SIGKILL'))) signalPid(pid, 'SIGKILL');
  await waitForChildExit(child, 5_000);
}
