import { Headers as H } from '@bazaar/contracts';
import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import { continueTrace, type TraceContext } from '../trace.ts';
import { isDeferred, parentOf, startSpan, traceOf, tracingActive } from './spans.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span, while it is recorded and not yet ended. */
    serverSpan: Span | undefined;
  }
  interface FastifyContextConfig {
    /** `false`: the route's requests get no server span (the trace collector's own intake). */
    tracing?: boolean;
  }
}

const MAX_PATH = 256;

/**
 * The trace a request continues: its `traceparent`, or a new trace. When spans are recorded and
 * the request is not `untraced`, it gets a server span whose id is the hop's span id, so the
 * `traceparent` of its calls and the span id of its logs name that span.
 */
export function requestTrace(request: FastifyRequest, untraced: boolean): TraceContext {
  const header = request.headers[H.traceparent] as string | undefined;
  if (untraced || !tracingActive() || request.routeOptions.config?.tracing === false) {
    return continueTrace(header);
  }
  const parent = parentOf(header);
  const method = request.method;
  const url = request.url;
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const span = startSpan(
    method,
    SpanKind.SERVER,
    parent,
    {
      'http.request.method': method,
      'url.path': path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path,
    },
    true,
  );
  if (!span) return continueTrace(header);
  request.serverSpan = span;
  return traceOf(span, parent?.spanId);
}

/** Ends the request's server span, named `METHOD route`: 5xx answers are errors. */
export function endServerSpan(request: FastifyRequest, status: number, route: string): void {
  const span = request.serverSpan;
  if (!span) return;
  request.serverSpan = undefined;
  // An unsampled request that went well is dropped: naming it would be work for nothing.
  if (status < 500 && isDeferred(span)) {
    span.end();
    return;
  }
  span.updateName(`${request.method} ${route}`);
  span.setAttribute('http.route', route);
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
