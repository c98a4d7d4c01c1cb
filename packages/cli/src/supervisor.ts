import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  clockTime,
  createServicePalette,
  fileLine,
  formatLogLine,
  paint,
  parseLogLine,
} from './log-format.ts';
import { signalPid, terminateChild } from './processes.ts';

/** One instance to run. */
export interface InstanceSpec {
  /** Slot name, unique in the supervisor: `catalog-1`. */
  slot: string;
  /** Its service (picks the colour). */
  service: string;
  /** Entry script, run with `process.execPath`. */
  entry: string;
  /** Environment on top of the supervisor's. */
  env?: Record<string, string>;
  /** After the first ready message, restarts listen on the port it announced (`BAZAAR_PORT`). */
  stickyPort?: boolean;
}

/** Where a slot is in its life. */
export type SlotState = 'starting' | 'ready' | 'backoff' | 'held' | 'stopped';

/** What the supervisor knows of a slot, from its process and its last ready message. */
export interface InstanceInfo {
  slot: string;
  service: string;
  state: SlotState;
  pid: number | undefined;
  instanceId: string | undefined;
  port: number | undefined;
  url: string | undefined;
  /** How many times it was started again after exiting. */
  restarts: number;
}

/** The IPC message a child sends once it listens and is registered. */
export interface ReadyMessage {
  type: 'bazaar:ready';
  instanceId: string;
  port: number;
  url: string;
}

/** Options of {@link createSupervisor}. */
export interface SupervisorOptions {
  /** Working folder of every child (the repository root). */
  cwd: string;
  /** Folder of `<slot>.jsonl` log files. */
  logDir: string;
  /** Base environment of every child (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Print nothing to the terminal (log files are still written). */
  quiet?: boolean;
  /**
   * Instances' log lines below this pino level are written to the log files but not printed (default
   * 0: all); lines that are not pino JSON are always printed. {@link Supervisor.setTerminalLevel} changes it.
   */
  terminalLevel?: number;
  /** Terminal output (default `process.stdout.write`). */
  write?: (text: string) => void;
  /** ANSI colours (default: when stdout is a TTY and `NO_COLOR` is unset). */
  colour?: boolean;
  /** SIGKILL a child this long after SIGTERM when stopping (default 10 s). */
  stopTimeoutMs?: number;
  /** Restart backoff: first delay, cap, and uptime after which it starts over (0.5 s, 15 s, 60 s). */
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Extra Node flags for children. */
  execArgv?: string[];
}

/** Options of {@link Supervisor.waitReady}. */
export interface WaitReadyOptions {
  /** Reject once the slot has exited this many times without announcing readiness. */
  maxCrashes?: number;
}

interface Waiter {
  resolve: (info: InstanceInfo) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  crashes: number;
  maxCrashes: number | undefined;
}

interface Slot {
  spec: InstanceSpec;
  env: NodeJS.ProcessEnv;
  group: number;
  state: SlotState;
  child: ChildProcess | undefined;
  startedAt: number;
  attempt: number;
  restarts: number;
  held: boolean;
  timer: NodeJS.Timeout | undefined;
  ready: ReadyMessage | undefined;
  waiters: Set<Waiter>;
  recent: string[];
  log: WriteStream;
  lastExit: string | undefined;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Runs instances as child processes: prefixed, coloured logs on the terminal and JSON lines in
 * `<logDir>/<slot>.jsonl`, restarts with exponential backoff, per-slot control, and an ordered stop.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #groups: string[][] = [];
  readonly #palette = createServicePalette();
  readonly #colour: boolean;
  readonly #write: (text: string) => void;
  #width = 10;
  #terminalLevel: number;
  #stopping: Promise<void> | undefined;
  readonly #onProcessExit = () => this.killAll();

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#colour = options.colour ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
    this.#write = options.write ?? ((text) => void process.stdout.write(text));
    this.#terminalLevel = options.terminalLevel ?? 0;
    mkdirSync(options.logDir, { recursive: true });
    process.on('exit', this.#onProcessExit);
  }

  /** Starts a group of instances at once; groups are stopped in the reverse of the order they were started. */
  start(group: readonly InstanceSpec[]): void {
    if (this.#stopping) throw new Error('the supervisor is stopping');
    for (const spec of group) {
      if (this.#slots.has(spec.slot)) throw new Error(`slot ${spec.slot} already exists`);
    }
    const index = this.#groups.length;
    this.#groups.push(group.map((s) => s.slot));
    for (const spec of group) {
      this.#width = Math.max(this.#width, spec.slot.length);
      const slot: Slot = {
        spec,
        env: { ...(this.#options.env ?? process.env), ...spec.env, BAZAAR_SLOT: spec.slot },
        group: index,
        state: 'starting',
        child: undefined,
        startedAt: 0,
        attempt: 0,
        restarts: 0,
        held: false,
        timer: undefined,
        ready: undefined,
        waiters: new Set(),
        recent: [],
        log: createWriteStream(join(this.#options.logDir, `${spec.slot}.jsonl`), { flags: 'a' }),
        lastExit: undefined,
      };
      slot.log.on('error', () => undefined);
      this.#slots.set(spec.slot, slot);
      this.#spawn(slot);
    }
  }

  /** From now on, print instances' log lines of `level` and above (see `SupervisorOptions.terminalLevel`). */
  setTerminalLevel(level: number): void {
    this.#terminalLevel = level;
  }

  /** Every slot, in start order. */
  slots(): string[] {
    return this.#groups.flat();
  }

  /** The pid of the slot's current process, if one runs. */
  pid(slot: string): number | undefined {
    return this.#slot(slot).child?.pid;
  }

  /** The slot's state, current pid and what its last ready message said. */
  info(slot: string): InstanceInfo {
    const s = this.#slot(slot);
    return {
      slot,
      service: s.spec.service,
      state: s.state,
      pid: s.child?.pid,
      instanceId: s.ready?.instanceId,
      port: s.ready?.port,
      url: s.ready?.url,
      restarts: s.restarts,
    };
  }

  /** Sends `signal` to the slot's process; if it exits, the usual restart policy applies. */
  kill(slot: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
    const pid = this.#slot(slot).child?.pid;
    return pid !== undefined && signalPid(pid, signal);
  }

  /** Stops restarting the slot: once it exits it stays down until {@link release}. */
  hold(slot: string): void {
    const s = this.#slot(slot);
    s.held = true;
    if (s.timer) {
      clearTimeout(s.timer);
      s.timer = undefined;
      s.state = 'held';
    }
  }

  /** Lifts a hold; a slot with no running process is started again now. */
  release(slot: string): void {
    const s = this.#slot(slot);
    s.held = false;
    if (this.#stopping) return;
    if (!s.child && !s.timer) {
      s.attempt = 0;
      s.restarts++;
      this.#spawn(s);
    }
  }

  /** Resolves with the slot's info at its next ready message; rejects after `timeoutMs`. */
  waitReady(slot: string, timeoutMs: number, options: WaitReadyOptions = {}): Promise<InstanceInfo> {
    const s = this.#slot(slot);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        crashes: 0,
        maxCrashes: options.maxCrashes,
        timer: setTimeout(() => {
          s.waiters.delete(waiter);
          reject(this.#slotError(s, `${slot} did not become ready within ${seconds(timeoutMs)}`));
        }, timeoutMs),
      };
      s.waiters.add(waiter);
    });
  }

  /** Stops one slot (SIGTERM, SIGKILL after the stop timeout) and holds it; {@link release} starts it again. */
  async stopSlot(slot: string): Promise<void> {
    const s = this.#slot(slot);
    this.hold(slot);
    if (s.child) await terminateChild(s.child, { timeoutMs: this.#stopTimeout(), group: true });
  }

  /**
   * Stops everything: SIGTERM to each group in the reverse of start order, waiting for the group to
   * exit (SIGKILL after the stop timeout) before the next; then closes the log files.
   */
  stopAll(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const s of this.#slots.values()) {
        if (s.timer) clearTimeout(s.timer);
        s.timer = undefined;
      }
      for (const group of [...this.#groups].reverse()) {
        await Promise.all(
          group.map(async (name) => {
            const s = this.#slots.get(name)!;
            if (s.child) await terminateChild(s.child, { timeoutMs: this.#stopTimeout(), group: true });
            s.state = 'stopped';
          }),
        );
      }
      for (const s of this.#slots.values()) {
        for (const waiter of s.waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`${s.spec.slot}: the supervisor stopped`));
        }
        s.waiters.clear();
      }
      await Promise.all([...this.#slots.values()].map((s) => new Promise<void>((r) => s.log.end(r))));
      process.off('exit', this.#onProcessExit);
    })();
    return this.#stopping;
  }

  /** SIGKILL to every child and its process group, now (a forced exit). */
  killAll(): void {
    for (const s of this.#slots.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.held = true;
      const pid = s.child?.pid;
      if (pid !== undefined && !signalPid(-pid, 'SIGKILL')) signalPid(pid, 'SIGKILL');
    }
  }

  #stopTimeout(): number {
    return this.#options.stopTimeoutMs ?? 10_000;
  }

  #slot(name: string): Slot {
    const s = this.#slots.get(name);
    if (!s) throw new Error(`no slot named ${name}`);
    return s;
  }

  #slotError(s: Slot, message: string): Error {
    const details = [s.lastExit ? `last exit: ${s.lastExit}` : '', ...s.recent.slice(-12)].filter(Boolean);
    return new Error(details.length > 0 ? `${message}\n  ${details.join('\n  ')}` : message);
  }

  #spawn(s: Slot): void {
    s.state = 'starting';
    s.ready = undefined;
    s.startedAt = Date.now();
    const child = spawn(process.execPath, [...(this.#options.execArgv ?? []), s.spec.entry], {
      cwd: this.#options.cwd,
      env: s.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: a Ctrl-C in the terminal reaches only us, and we stop children in order.
      detached: true,
    });
    s.child = child;
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
        this.#line(s, line, name),
      );
    }
    child.on('message', (message: unknown) => this.#message(s, child, message));
    child.once('error', (err) => {
      this.#note(s, 50, `could not start: ${err.message}`);
      if (child.pid === undefined) this.#exited(s, child, null, null);
    });
    child.once('exit', (code, signal) => this.#exited(s, child, code, signal));
  }

  #message(s: Slot, child: ChildProcess, message: unknown): void {
    if (s.child !== child || typeof message !== 'object' || message === null) return;
    const m = message as Partial<ReadyMessage>;
    if (m.type !== 'bazaar:ready' || typeof m.port !== 'number') return;
    s.ready = {
      type: 'bazaar:ready',
      instanceId: String(m.instanceId ?? ''),
      port: m.port,
      url: String(m.url ?? ''),
    };
    s.state = 'ready';
    if (s.spec.stickyPort) s.env.BAZAAR_PORT = String(m.port);
    const info = this.info(s.spec.slot);
    for (const waiter of s.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(info);
    }
    s.waiters.clear();
  }

  #exited(s: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (s.child !== child) return;
    s.child = undefined;
    const wasReady = s.state === 'ready';
    const uptime = Date.now() - s.startedAt;
    s.lastExit = describeExit(code, signal);
    if (this.#stopping) {
      s.state = 'stopped';
      return;
    }
    if (!wasReady) {
      for (const waiter of [...s.waiters]) {
        waiter.crashes++;
        if (waiter.maxCrashes !== undefined && waiter.crashes >= waiter.maxCrashes) {
          clearTimeout(waiter.timer);
          s.waiters.delete(waiter);
          waiter.reject(
            this.#slotError(s, `${s.spec.slot} exited ${waiter.crashes} time(s) before it became ready`),
          );
        }
      }
    }
    if (s.held) {
      s.state = 'held';
      this.#note(s, 40, `exited (${s.lastExit}); held, so not restarted`);
      return;
    }
    const backoff = this.#options.backoff ?? {};
    if (uptime >= (backoff.resetAfterMs ?? 60_000)) s.attempt = 0;
    const delay = Math.min((backoff.initialMs ?? 500) * 2 ** s.attempt, backoff.maxMs ?? 15_000);
    s.attempt++;
    s.state = 'backoff';
    this.#note(
      s,
      wasReady ? 50 : 40,
      `exited (${s.lastExit}) after ${seconds(uptime)}; restarting in ${seconds(delay)} (restart #${s.restarts + 1})`,
    );
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.#stopping || s.held) {
        s.state = s.held ? 'held' : 'stopped';
        return;
      }
      s.restarts++;
      this.#spawn(s);
    }, delay);
  }

  #line(s: Slot, line: string, stream: 'stdout' | 'stderr'): void {
    s.log.write(`${fileLine(line, stream)}\n`);
    if (stream === 'stderr' || line.includes('"level":5') || line.includes('"level":6')) {
      s.recent.push(line);
      if (s.recent.length > 30) s.recent.shift();
    }
    if (this.#options.quiet || this.#belowTerminalLevel(line)) return;
    this.#write(
      `${formatLogLine(line, {
        slot: s.spec.slot,
        width: this.#width,
        slotColour: this.#palette(s.spec.service),
        colour: this.#colour,
      })}\n`,
    );
  }

  #belowTerminalLevel(line: string): boolean {
    if (this.#terminalLevel <= 0) return false;
    const record = parseLogLine(line);
    return record !== undefined && record.level < this.#terminalLevel;
  }

  /** A note of the supervisor's own about a slot: printed, and kept in the slot's log file. */
  #note(s: Slot, level: number, msg: string): void {
    const record = { level, time: new Date().toISOString(), msg, source: 'supervisor', slot: s.spec.slot };
    s.log.write(`${JSON.stringify(record)}\n`);
    if (this.#options.quiet || level < this.#terminalLevel) return;
    const label = level >= 50 ? 'ERROR' : level >= 40 ? 'WARN' : 'INFO';
    const colour = level >= 50 ? 31 : level >= 40 ? 33 : 32;
    const slot = paint(s.spec.slot.padEnd(this.#width), this.#palette(s.spec.service), this.#colour);
    this.#write(
      `${paint(clockTime(new Date()), 90, this.#colour)} ${slot} ${paint('│', 90, this.#colour)} ${paint(label.padEnd(5), colour, this.#colour)} ${paint('[bazaar]', 1, this.#colour)} ${msg}\n`,
    );
  }
}

/** Creates a supervisor (see {@link Supervisor}). */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  return new Supervisor(options);
}
