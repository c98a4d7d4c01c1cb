/** Server-sent events read by hand (EventSource cannot send `Authorization`), and reconnect delays. */

/** One event of a server-sent-events stream. */
export interface SseEvent {
  /** The `event:` field; `message` when the frame has none. */
  event: string;
  /** The `data:` lines, joined by newlines. */
  data: string;
  id?: string;
}

/**
 * Reads the complete events at the start of `text` (what a stream has sent and not yet been
 * parsed) and answers them with the unfinished rest, to be prefixed to the next chunk. Follows the
 * WHATWG rules: CRLF, CR or LF line ends, `:` comments, one optional space after a field's colon,
 * frames without data are not events.
 */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  // A trailing CR may be the first half of a CRLF split across chunks: decide on it next time.
  const cut = text.endsWith('\r') ? text.length - 1 : text.length;
  const normalized = text.slice(0, cut).replace(/\r\n?/g, '\n');
  const end = normalized.lastIndexOf('\n\n');
  if (end < 0) return { events: [], rest: normalized + text.slice(cut) };
  const events: SseEvent[] = [];
  for (const frame of normalized.slice(0, end).split('\n\n')) {
    const event = parseFrame(frame);
    if (event) events.push(event);
  }
  return { events, rest: normalized.slice(end + 2) + text.slice(cut) };
}

function parseFrame(frame: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return undefined;
  return id === undefined ? { event, data: data.join('\n') } : { event, data: data.join('\n'), id };
}

/**
 * Delay before reconnect attempt `attempt` (1, 2, …): 1 s doubling to 30 s, ±20 % so that many
 * consoles do not come back in step.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
