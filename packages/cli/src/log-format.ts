/** A parsed pino line: an object with at least a numeric `level`. */
export type LogRecord = Record<string, unknown> & { level: number };

/** ANSI colours given to services in turn. */
const SERVICE_COLOURS = [36, 35, 32, 33, 34, 96, 95, 92, 93, 94, 91];

const LEVELS: Record<number, { label: string; colour: number }> = {
  10: { label: 'TRACE', colour: 90 },
  20: { label: 'DEBUG', colour: 90 },
  30: { label: 'INFO', colour: 32 },
  40: { label: 'WARN', colour: 33 },
  50: { label: 'ERROR', colour: 31 },
  60: { label: 'FATAL', colour: 41 },
};

/** Fields every line carries, which the terminal view leaves out. */
const HIDDEN_FIELDS = new Set([
  'level',
  'levelName',
  'time',
  'msg',
  'message',
  'service',
  'instance',
  'pid',
  'hostname',
  'v',
]);

/** Parses a JSON log line, or undefined when the line is not a JSON object with a numeric `level`. */
export function parseLogLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { level?: unknown }).level === 'number'
    ) {
      return value as LogRecord;
    }
  } catch {
    // Not JSON: printed as it is.
  }
  return undefined;
}

/** `HH:MM:SS` in local time. */
export function clockTime(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/** Wraps `text` in an ANSI colour when `enabled`. */
export function paint(text: string, colour: number, enabled: boolean): string {
  return enabled ? `\u001b[${colour}m${text}\u001b[0m` : text;
}

/** A stable colour per service name, in order of first appearance. */
export function createServicePalette(): (service: string) => number {
  const assigned = new Map<string, number>();
  return (service) => {
    let colour = assigned.get(service);
    if (colour === undefined) {
      colour = SERVICE_COLOURS[assigned.size % SERVICE_COLOURS.length]!;
      assigned.set(service, colour);
    }
    return colour;
  };
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 400 ? `${json.slice(0, 400)}…` : json;
}

function recordTime(record: LogRecord): Date {
  const time = record.time;
  if (typeof time === 'number' || typeof time === 'string') {
    const date = new Date(time);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return new Date();
}

/** Options of {@link formatLogLine}. */
export interface FormatOptions {
  /** Slot name shown in front, e.g. `catalog-1`. */
  slot: string;
  /** Width the slot name is padded to. */
  width: number;
  /** ANSI colour of the slot name. */
  slotColour: number;
  /** Whether to use ANSI colours. */
  colour: boolean;
}

/**
 * One child output line for the terminal: pino JSON becomes
 * `HH:MM:SS catalog-1 │ INFO  message key=value…`; any other line is shown as it is, after the prefix.
 */
export function formatLogLine(line: string, options: FormatOptions): string {
  const record = parseLogLine(line);
  const slot = paint(options.slot.padEnd(options.width), options.slotColour, options.colour);
  const bar = paint('│', 90, options.colour);
  if (!record) return `${paint(clockTime(new Date()), 90, options.colour)} ${slot} ${bar} ${line}`;
  const level = LEVELS[record.level] ?? {
    label: String(record.levelName ?? record.level).toUpperCase(),
    colour: 37,
  };
  const message =
    typeof record.msg === 'string' ? record.msg : typeof record.message === 'string' ? record.message : '';
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_FIELDS.has(key) || value === undefined) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { message?: unknown; stack?: unknown };
      fields.push(`err=${formatValue(err.message ?? value)}`);
      if (typeof err.stack === 'string' && record.level >= 50) stack = err.stack;
      continue;
    }
    fields.push(`${key}=${formatValue(value)}`);
  }
  const text = [message, fields.length > 0 ? paint(fields.join(' '), 90, options.colour) : '']
    .filter(Boolean)
    .join(' ');
  let out = `${paint(clockTime(recordTime(record)), 90, options.colour)} ${slot} ${bar} ${paint(level.label.padEnd(5), level.colour, options.colour)} ${text}`;
  if (stack) {
    const indent = ' '.repeat(9 + options.width + 3);
    out += `\n${stack
      .split('\n')
      .map((l) => paint(indent + l, 90, options.colour))
      .join('\n')}`;
  }
  return out;
}

/** The line kept in a slot's `.jsonl` file: JSON lines as they are, anything else wrapped. */
export function fileLine(line: string, stream: 'stdout' | 'stderr'): string {
  if (parseLogLine(line)) return line;
  return JSON.stringify({
    level: stream === 'stderr' ? 50 : 30,
    time: new Date().toISOString(),
    msg: line,
    stream,
  });
}
