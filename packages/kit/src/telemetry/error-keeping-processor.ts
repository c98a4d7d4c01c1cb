import { type Context, type SpanContext, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Passes ended spans on to `next` (the batch processor that exports them): every sampled span,
 * and — errors are always kept — an unsampled span that ended in error, shown to `next` as
 * sampled. What is kept of an unsampled trace is its error spans, not the whole trace: their
 * parents that ended well are not exported, so the collector sees a partial trace.
 */
export class ErrorKeepingProcessor implements SpanProcessor {
  readonly #next: SpanProcessor;

  constructor(next: SpanProcessor) {
    this.#next = next;
  }

  onStart(span: Span, parentContext: Context): void {
    this.#next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    if ((context.traceFlags & TraceFlags.SAMPLED) !== 0) this.#next.onEnd(span);
    else if (span.status.code === SpanStatusCode.ERROR) this.#next.onEnd(asSampled(span, context));
  }

  forceFlush(): Promise<void> {
    return this.#next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#next.shutdown();
  }
}

/** `span` as seen through a sampled span context; every other field is the span's own. */
function asSampled(span: ReadableSpan, context: SpanContext): ReadableSpan {
  const sampled: SpanContext = { ...context, traceFlags: context.traceFlags | TraceFlags.SAMPLED };
  return Object.create(span, { spanContext: { value: () => sampled } }) as ReadableSpan;
}
