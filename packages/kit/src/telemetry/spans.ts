/**
 * The spans the kit records, one function per kind of work: outbound calls, database
 * transactions, outbox publishes, event consumption and long-running work (a saga). Each takes its
 * parent explicitly — the current `RequestContext`'s trace, or a stored `traceparent` — and
 * returns `undefined` when no tracer is installed, so the untraced path costs one check.
 */
import type { EventEnvelope } from '@bazaar/contracts';
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { currentContext } from '../context.ts';
import {
  continueTrace,
  newSpanId,
  newTraceId,
  parseTraceparent,
  type TraceContext,
  traceparent,
} from '../trace.ts';
import { DeferredSpan } from './deferred-span.ts';
import { forceNextIds } from './ids.ts';
import { withRootDecision } from './sampler.ts';
import { activeTracer, newTraceSampling } from './tracer.ts';

export type { Span } from '@opentelemetry/api';

/** The span a new span hangs under: its trace, its id, and whether the trace is sampled. */
export interface SpanParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

/** Whether spans are being recorded in this process. */
export function tracingActive(): boolean {
  return activeTracer() !== undefined;
}

/** Starts a span under `parent` (a new trace without one); `undefined` when nothing is recorded. */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: SpanParent | undefined,
  attributes?: Attributes,
  remote = false,
): Span | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  // Unsampled work, most of it, gets a light record that becomes a span only if it fails.
  if (parent && !parent.sampled) {
    const ids = { traceId: parent.traceId, spanId: newSpanId() };
    return new DeferredSpan(tracer, name, kind, ids, { spanId: parent.spanId, remote }, attributes);
  }
  if (!parent) {
    const traceId = newTraceId();
    if (!newTraceSampling().samples(kind, attributes, traceId))
      return new DeferredSpan(tracer, name, kind, { traceId, spanId: newSpanId() }, undefined, attributes);
    return withRootDecision(true, () =>
      forceNextIds(traceId, undefined, () => tracer.startSpan(name, { kind, attributes }, ROOT_CONTEXT)),
    );
  }
  // A sampled parent: a real span in its trace.
  const context = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: remote,
  });
  return tracer.startSpan(name, { kind, attributes }, context);
}

/** Whether `span` is the light record of an unsampled trace: dropped when it ends well. */
export function isDeferred(span: Span): boolean {
  return span instanceof DeferredSpan;
}

/** Ends `span`; with an error (or a message), its status is ERROR. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) markFailed(span, error);
  span.end();
}

/** Sets `span`'s status to ERROR, with what failed. */
export function markFailed(span: Span, error: unknown): void {
  if (typeof error === 'string') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    return;
  }
  const err = error as { name?: unknown; code?: unknown; message?: unknown } | null;
  const type = typeof err?.code === 'string' ? err.code : typeof err?.name === 'string' ? err.name : 'Error';
  span.setAttribute('error.type', type);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof err?.message === 'string' ? err.message.slice(0, 500) : undefined,
  });
}

/** The kit trace context of work done under `span` (its id becomes the hop's span id). */
export function traceOf(span: Span, parentSpanId: string | undefined): TraceContext {
  const c = span.spanContext();
  return {
    traceId: c.traceId,
    spanId: c.spanId,
    parentSpanId,
    sampled: (c.traceFlags & TraceFlags.SAMPLED) !== 0,
  };
}

/** The `traceparent` of `span`: what a callee or an event's consumer continues. */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & TraceFlags.SAMPLED) !== 0 ? '01' : '00'}`;
}

/** The parent a `traceparent` header names, or `undefined` when it is absent or invalid. */
export function parentOf(header: string | undefined): SpanParent | undefined {
  const t = parseTraceparent(header);
  return t ? { traceId: t.traceId, spanId: t.parentSpanId, sampled: t.sampled } : undefined;
}

// ---- Outbound calls ----------------------------------------------------------------------------

/** A client span for a call of the kit's `ServiceClient` to `target`, under the caller's trace. */
export function startClientSpan(target: string, method: string, parent: TraceContext): Span | undefined {
  return startSpan(`${method} ${target}`, SpanKind.CLIENT, parent, {
    'peer.service': target,
    'http.request.method': method,
  });
}

/** How a call ended: an answer from an instance, or an error (no answer that could be passed on). */
export type CallOutcome =
  | { status: number; attempts: number; address: string | undefined }
  | { error: unknown };

/** Ends a client span: the instance used, the status and attempts; 5xx and failures are errors. */
export function endClientSpan(span: Span, outcome: CallOutcome): void {
  if ('error' in outcome) {
    endSpan(span, outcome.error);
    return;
  }
  if (outcome.status < 500 && isDeferred(span)) {
    span.end();
    return;
  }
  if (outcome.address) {
    const colon = outcome.address.lastIndexOf(':');
    span.setAttribute('server.address', outcome.address.slice(0, colon));
    span.setAttribute('server.port', Number(outcome.address.slice(colon + 1)));
  }
  span.setAttribute('http.response.status_code', outcome.status);
  span.setAttribute('bazaar.attempts', outcome.attempts);
  if (outcome.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

// ---- Database transactions ---------------------------------------------------------------------

const DB_ATTRIBUTES: Attributes = Object.freeze({ 'db.system': 'postgresql' });

/**
 * Runs `fn` (a whole transaction, from taking a connection to COMMIT or ROLLBACK) under a
 * `db.transaction` span, when it runs for a request or an event: background work outside any
 * context gets no span (it would make a one-span trace per pass).
 */
export async function traceTransaction<T>(fn: () => Promise<T>): Promise<T> {
  const parent = currentContext()?.trace;
  const span = parent ? startSpan('db.transaction', SpanKind.CLIENT, parent, DB_ATTRIBUTES) : undefined;
  if (!span) return fn();
  try {
    const result = await fn();
    span.end();
    return result;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

// ---- Events ------------------------------------------------------------------------------------

/**
 * A producer span for the relay's publish of an outbox row, under the `traceparent` stored with
 * the row (the work that wrote it); a row stored outside any trace starts one.
 */
export function startProducerSpan(envelope: EventEnvelope, stored: string | undefined): Span | undefined {
  return startSpan(
    `publish ${envelope.type}`,
    SpanKind.PRODUCER,
    parentOf(stored),
    {
      'messaging.operation.type': 'send',
      'messaging.destination.name': envelope.type,
      'messaging.message.id': envelope.id,
    },
    true,
  );
}

/** A consumer span for one delivery of an event to a consumer, under the event's `traceparent`. */
export function startConsumerSpan(
  envelope: EventEnvelope,
  consumer: string,
  attempt: number | undefined,
): Span | undefined {
  const attributes: Attributes = {
    'messaging.operation.type': 'process',
    'messaging.destination.name': envelope.type,
    'messaging.consumer.group.name': consumer,
    'messaging.message.id': envelope.id,
  };
  if (attempt !== undefined) attributes['bazaar.attempt'] = attempt;
  return startSpan(
    `process ${envelope.type}`,
    SpanKind.CONSUMER,
    parentOf(envelope.traceparent),
    attributes,
    true,
  );
}

// ---- Work of a service's own ------------------------------------------------------------------

/** A span a service started for work of its own; `trace` is what the work's context carries. */
export interface WorkSpan {
  readonly trace: TraceContext;
  /** Ends the span; an error marks it failed. Calling it again does nothing. */
  end(error?: unknown): void;
}

/**
 * Starts a span for work that outlives the request that began it (a checkout saga's run), under
 * the current context's trace, or as a new trace outside any. Run the work in a context whose
 * `trace` is the returned one, so its calls and events hang under this span. Without a tracer,
 * the trace is continued under a fresh span id and nothing is recorded.
 */
export function startWorkSpan(name: string, attributes?: Attributes): WorkSpan {
  const parent = currentContext()?.trace;
  const span = startSpan(name, SpanKind.INTERNAL, parent, attributes);
  if (!span) {
    return { trace: continueTrace(parent ? traceparent(parent) : undefined), end: () => undefined };
  }
  let ended = false;
  return {
    trace: traceOf(span, parent?.spanId),
    end(error?: unknown) {
      if (ended) return;
      ended = true;
      endSpan(span, error);
    },
  };
}
