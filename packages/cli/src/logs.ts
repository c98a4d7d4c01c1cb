import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServicePalette, formatLogLine, type LogRecord, parseLogLine } from './log-format.ts';
import { repoRoot } from './repo-root.ts';
import { UsageError } from './usage.ts';

/** What `bazaar logs` keeps: lines of one service, one trace, since a time. */
export interface LogFilter {
  service?: string | undefined;
  traceId?: string | undefined;
  /** Epoch milliseconds; older lines are left out. */
  since?: number | undefined;
}

/** One kept line and where it came from (`catalog-1` for `catalog-1.jsonl`). */
export interface LogEntry {
  slot: string;
  line: string;
  record: LogRecord;
  time: number;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from `now` (`90s`, `10m`, `2h`, `1d`) or a date-time. */
export function parseSince(text: string, now: number): number {
  const relative = /^(\d+)(s|m|h|d)$/.exec(text);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  const absolute = Date.parse(text);
  if (Number.isNaN(absolute)) throw new UsageError(`--since expects 10m, 2h, 1d or a date-time, not ${text}`);
  return absolute;
}

function recordTime(record: LogRecord): number {
  const time =
    typeof record.time === 'string' || typeof record.time === 'number' ? new Date(record.time) : undefined;
  return time && !Number.isNaN(time.getTime()) ? time.getTime() : 0;
}

/** Whether a line of `slot` passes the filter; a service matches its own lines and its slots' output. */
export function keep(slot: string, record: LogRecord, filter: LogFilter): boolean {
  if (filter.service) {
    const service = typeof record.service === 'string' ? record.service : slot.replace(/-\d+$/, '');
    if (service !== filter.service) return false;
  }
  if (filter.traceId && record.traceId !== filter.traceId) return false;
  if (filter.since !== undefined && recordTime(record) < filter.since) return false;
  return true;
}

/** The kept lines of `text`, read from `slot`'s file. */
export function entriesOf(slot: string, text: string, filter: LogFilter): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of text.split('\n')) {
    const record = parseLogLine(line);
    if (record && keep(slot, record, filter)) entries.push({ slot, line, record, time: recordTime(record) });
  }
  return entries;
}

/** Lines of several files in time order (a stable sort: a file's own order holds for equal times). */
export function byTime(entries: LogEntry[]): LogEntry[] {
  return entries.sort((a, b) => a.time - b.time);
}

/** A log file read from an offset on, keeping a partial last line for the next read. */
class LogFile {
  readonly slot: string;
  readonly #path: string;
  #offset = 0;
  #partial = '';

  constructor(path: string, slot: string) {
    this.#path = path;
    this.slot = slot;
  }

  /** The complete lines added since the last read. */
  readNew(): string {
    const size = statSync(this.#path).size;
    if (size < this.#offset) this.#offset = 0; // truncated or replaced: read it again
    if (size === this.#offset) return '';
    const buffer = Buffer.alloc(size - this.#offset);
    const fd = openSync(this.#path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.#offset);
    } finally {
      closeSync(fd);
    }
    this.#offset = size;
    const text = this.#partial + buffer.toString('utf8');
    const end = text.lastIndexOf('\n');
    this.#partial = text.slice(end + 1);
    return text.slice(0, end + 1);
  }
}

/**
 * `bazaar logs [service] [--trace ID] [--since 10m] [-f] [--json]`: the embedded mode's aggregated
 * logs (`<data-dir>/logs/*.jsonl`), merged in time order across instances; `-f` keeps printing new
 * lines until interrupted. In production, services log JSON lines to stdout for the cluster's collector.
 */
export async function logsCommand(
  argv: string[],
  write: (text: string) => void = (text) => void process.stdout.write(text),
  options: { now?: number; signal?: AbortSignal; pollMs?: number; colour?: boolean } = {},
): Promise<number> {
  let parsed: ReturnType<typeof parseLogsArgs>;
  try {
    parsed = parseLogsArgs(argv);
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError('bazaar logs takes at most one service');
  if (values.trace !== undefined && !/^[0-9a-f]{32}$/.test(values.trace))
    throw new UsageError('--trace expects a trace id (32 hex digits)');
  const dataDir = values['data-dir'] ?? process.env.BAZAAR_DATA_DIR ?? join(repoRoot, '.data');
  const logDir = join(dataDir, 'logs');
  if (!existsSync(logDir)) throw new UsageError(`no logs in ${logDir}: has Bazaar been started there?`);
  const filter: LogFilter = {
    service: positionals[0],
    traceId: values.trace,
    since: values.since === undefined ? undefined : parseSince(values.since, options.now ?? Date.now()),
  };
  const colour = options.colour ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const palette = createServicePalette();
  const files = new Map<string, LogFile>();
  const show = (entries: LogEntry[]) => {
    const width = Math.max(10, ...entries.map((e) => e.slot.length));
    for (const entry of byTime(entries)) {
      write(
        values.json
          ? `${entry.line}\n`
          : `${formatLogLine(entry.line, { slot: entry.slot, width, slotColour: palette(entry.slot), colour })}\n`,
      );
    }
  };
  const readAll = (): LogEntry[] => {
    for (const name of readdirSync(logDir)) {
      if (!name.endsWith('.jsonl') || files.has(name)) continue;
      files.set(name, new LogFile(join(logDir, name), name.slice(0, -'.jsonl'.length)));
    }
    return [...files.values()].flatMap((file) => entriesOf(file.slot, file.readNew(), filter));
  };

  const first = readAll();
  show(first);
  if (!values.follow) {
    if (first.length === 0) process.stderr.write('no log lines match\n');
    return 0;
  }
  const signal = options.signal ?? interrupted();
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    show(readAll());
  }
  return 0;
}

function parseLogsArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      trace: { type: 'string' },
      since: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
}

/** Aborted on Ctrl-C, so `-f` ends with exit code 0. */
function interrupted(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}
