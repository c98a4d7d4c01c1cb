import {
  type Attributes,
  type AttributeValue,
  type Exception,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { forceNextIds } from './ids.ts';
import { withRootDecision } from './sampler.ts';

/**
 * A span of an unsampled trace, kept as a light record instead of an SDK span: unsampled work is
 * most of the work, and an SDK span costs microseconds to make and end. If it ends in error, it
 * becomes a real span after all — same ids, same start, its attributes and status — and is
 * exported, because errors are always kept. Otherwise it is dropped when it ends.
 */
export class DeferredSpan implements Span {
  readonly #tracer: Tracer;
  readonly #context: SpanContext;
  readonly #parent: { spanId: string; remote: boolean } | undefined;
  readonly #kind: SpanKind;
  readonly #startTime = performance.timeOrigin + performance.now();
  #name: string;
  #attributes: Attributes | undefined;
  #status: SpanStatus = { code: SpanStatusCode.UNSET };
  #ended = false;
  #copied = false;

  constructor(
    tracer: Tracer,
    name: string,
    kind: SpanKind,
    ids: { traceId: string; spanId: string },
    parent: { spanId: string; remote: boolean } | undefined,
    attributes: Attributes | undefined,
  ) {
    this.#tracer = tracer;
    this.#name = name;
    this.#kind = kind;
    this.#context = { traceId: ids.traceId, spanId: ids.spanId, traceFlags: TraceFlags.NONE };
    this.#parent = parent;
    this.#attributes = attributes;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.#own()[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    Object.assign(this.#own(), attributes);
    return this;
  }

  /** The attributes, copied once before the first change (the caller's object may be shared). */
  #own(): Attributes {
    if (!this.#copied) {
      this.#attributes = { ...this.#attributes };
      this.#copied = true;
    }
    return this.#attributes!;
  }

  addEvent(): this {
    return this;
  }

  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.#status = status;
    return this;
  }

  updateName(name: string): this {
    this.#name = name;
    return this;
  }

  isRecording(): boolean {
    return !this.#ended;
  }

  recordException(_exception: Exception, _time?: TimeInput): void {}

  /** Dropped, unless it failed: then it is made a real span, exported as an error span. */
  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#status.code !== SpanStatusCode.ERROR) return;
    const context = this.#parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: this.#context.traceId,
          spanId: this.#parent.spanId,
          traceFlags: TraceFlags.NONE,
          isRemote: this.#parent.remote,
        })
      : ROOT_CONTEXT;
    const span = withRootDecision(false, () =>
      forceNextIds(this.#parent ? undefined : this.#context.traceId, this.#context.spanId, () =>
        this.#tracer.startSpan(
          this.#name,
          { kind: this.#kind, attributes: this.#attributes, startTime: this.#startTime },
          context,
        ),
      ),
    );
    span.setStatus(this.#status);
    span.end(endTime ?? performance.timeOrigin + performance.now());
  }
}
