import { randomBytes } from 'node:crypto';

/** W3C trace context of one hop: the trace it belongs to and this hop's span. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Continues the trace of an incoming `traceparent`, or starts a new one when it is absent or invalid. */
export function continueTrace(header: string | undefined): TraceContext {
  const match = header ? TRACEPARENT.exec(header.trim()) : null;
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!)) {
    return {
      traceId: match[1]!,
      spanId: newSpanId(),
      parentSpanId: match[2]!,
      sampled: (Number.parseInt(match[3]!, 16) & 1) === 1,
    };
  }
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: newSpanId(),
    parentSpanId: undefined,
    sampled: true,
  };
}

/** A fresh span id. */
export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/** The `traceparent` header for a call made from `trace`, as a child span `spanId`. */
export function traceparent(trace: TraceContext, spanId: string = trace.spanId): string {
  return `00-${trace.traceId}-${spanId}-${trace.sampled ? '01' : '00'}`;
}
