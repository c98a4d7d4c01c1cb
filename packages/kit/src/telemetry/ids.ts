import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { newSpanId, newTraceId } from '../trace.ts';

let nextTraceId: string | undefined;
let nextSpanId: string | undefined;

/**
 * Span and trace ids for the tracer: random (from the kit's pool, as every other id), except that
 * {@link forceNextIds} may name the next ones — a deferred span made real keeps the ids its
 * children and logs already carry, and a sampled new trace keeps the id its sampling was decided on.
 */
export const kitIds: IdGenerator = {
  generateTraceId(): string {
    const id = nextTraceId ?? newTraceId();
    nextTraceId = undefined;
    return id;
  },
  generateSpanId(): string {
    const id = nextSpanId ?? newSpanId();
    nextSpanId = undefined;
    return id;
  },
};

/** Runs `make` (which starts exactly one span, synchronously) with the span's ids named. */
export function forceNextIds<T>(traceId: string | undefined, spanId: string | undefined, make: () => T): T {
  nextTraceId = traceId;
  nextSpanId = spanId;
  try {
    return make();
  } finally {
    nextTraceId = undefined;
    nextSpanId = undefined;
  }
}
