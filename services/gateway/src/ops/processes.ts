import { readFileSync } from 'node:fs';

/** The processes of this machine, as far as killing an instance needs them. */
export interface ProcessControl {
  /** This process's id. */
  readonly pid: number;
  /** This process's parent: in embedded mode, the `bazaar up` supervisor. */
  readonly ppid: number;
  /** The parent of process `pid`, or undefined when it does not run (or cannot be read). */
  parentOf(pid: number): number | undefined;
  /** Sends SIGKILL to `pid`. */
  kill(pid: number): void;
}

/** This machine's processes, read from Linux's `/proc`. */
export const systemProcesses: ProcessControl = {
  pid: process.pid,
  get ppid() {
    return process.ppid;
  },
  parentOf: (pid) => {
    try {
      return parentInStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return undefined;
    }
  },
  kill: (pid) => {
    process.kill(pid, 'SIGKILL');
  },
};

/**
 * The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid …`. The command name may
 * hold spaces and parentheses, so fields are counted after its last `)`.
 */
export function parentInStat(stat: string): number | undefined {
  const fields = stat
    .slice(stat.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/);
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/**
 * Why `pid` may not be killed from the console, or undefined when it may: it must be a sibling of
 * this gateway (a child of the same supervisor) and never the gateway itself.
 */
export function refusalToKill(pid: number, processes: ProcessControl): string | undefined {
  if (pid === processes.pid) return 'The gateway does not kill itself.';
  const parent = processes.parentOf(pid);
  if (parent === undefined) return `Process ${pid} is not running.`;
  if (parent !== processes.ppid || processes.ppid <= 1)
    return `Process ${pid} was not started by the supervisor that started this gateway.`;
  return undefined;
}
