import { randomFillSync } from 'node:crypto';

// Ids are cut from a pool of random bytes filled 4 KiB at a time: one system call per ~170 requests
// instead of three per request (randomBytes costs several µs a call; this is on every hop).
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** `bytes` random bytes as lower-case hex, from the pool. */
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** W3C trace context of one hop: the trace it belongs to and this hop's span. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace and parent span an incoming `traceparent` names, or `undefined` when absent or invalid. */
export function parseTraceparent(
  header: string | undefined,
): { traceId: string; parentSpanId: string; sampled: boolean } | undefined {
  const match = header ? TRACEPARENT.exec(header.trim()) : null;
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return {
    traceId: match[1]!,
    parentSpanId: match[2]!,
    sampled: (Number.parseInt(match[3]!, 16) & 1) === 1,
  };
}

/** Continues the trace of an incoming `traceparent`, or starts a new one when it is absent or invalid. */
export function continueTrace(header: string | undefined): TraceContext {
  const parent = parseTraceparent(header);
  if (parent) return { ...parent, spanId: newSpanId() };
  return {
    traceId: randomHex(16),
    spanId: newSpanId(),
    parentSpanId: undefined,
    sampled: true,
  };
}

/** A fresh trace id. */
export function newTraceId(): string {
  return randomHex(16);
}

/** A fresh span id. */
export function newSpanId(): string {
  return randomHex(8);
}

/** The `traceparent` header for a call made from `trace`, as a child span `spanId`. */
export function traceparent(trace: TraceContext, spanId: string = trace.spanId): string {
  return `00-${trace.traceId}-${spanId}-${trace.sampled ? '01' : '00'}`;
}
