import type { OpsSpan, OpsTrace, OpsTraceQuery, OpsTraceSummary } from '@bazaar/contracts';
import type { CollectedSpan } from './otlp-json.ts';

/** Bounds of a `TraceStore`. */
export interface TraceStoreOptions {
  /** Traces kept; the one least recently added to goes first (default 2000). */
  maxTraces?: number;
  /** Spans kept over all traces (default 50 000). */
  maxSpans?: number;
  /** Spans kept of one trace; later ones are dropped (default 2000). */
  maxSpansPerTrace?: number;
}

interface StoredTrace {
  traceId: string;
  spans: Map<string, CollectedSpan>;
  /** Computed when asked for, dropped when a span arrives. */
  summary: Summary | undefined;
}

interface Summary extends OpsTraceSummary {
  startMs: number;
  routes: Set<string>;
}

/** CONTRACT: lists answer 20 items unless asked for up to 100. */
export const DEFAULT_LIMIT = 20;

/** Where a page of traces ends, in the list's order: its sort key and trace id (`?cursor=`). */
function sortKey(summary: { startTime: string; durationMs: number }, sort: OpsTraceQuery['sort']): number[] {
  const start = Date.parse(summary.startTime);
  return sort === 'slowest' ? [summary.durationMs, start] : [start];
}

/** The cursor of the page after `last`. */
export function traceCursor(last: OpsTraceSummary, sort: OpsTraceQuery['sort']): string {
  return Buffer.from(JSON.stringify({ k: sortKey(last, sort), id: last.traceId })).toString('base64url');
}

/** Reads a cursor made by `traceCursor`; throws `InvalidTraceCursor` for anything else. */
function readCursor(cursor: string): { k: number[]; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      k?: unknown;
      id?: unknown;
    };
    if (
      Array.isArray(value.k) &&
      value.k.length > 0 &&
      value.k.every((n) => typeof n === 'number' && Number.isFinite(n)) &&
      typeof value.id === 'string'
    )
      return { k: value.k as number[], id: value.id };
  } catch {
    // Falls through to the refusal.
  }
  throw new InvalidTraceCursor();
}

/** A `cursor` that this store did not make. */
export class InvalidTraceCursor extends Error {
  override name = 'InvalidTraceCursor';
}

/** Descending order of sort keys, then of trace ids: negative when `a` comes first. */
function compareDescending(a: { k: number[]; id: string }, b: { k: number[]; id: string }): number {
  for (let i = 0; i < Math.max(a.k.length, b.k.length); i++) {
    const d = (b.k[i] ?? 0) - (a.k[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The embedded collector's memory: recent traces, bounded in traces and spans. A trace moves to
 * the young end whenever one of its spans arrives (its consumers report seconds after its
 * request), and the oldest go when a bound is passed. A span sent twice (an exporter's retry) is
 * kept once.
 */
export class TraceStore {
  readonly #maxTraces: number;
  readonly #maxSpans: number;
  readonly #maxSpansPerTrace: number;
  readonly #traces = new Map<string, StoredTrace>();
  #spanCount = 0;

  constructor({ maxTraces = 2_000, maxSpans = 50_000, maxSpansPerTrace = 2_000 }: TraceStoreOptions = {}) {
    this.#maxTraces = maxTraces;
    this.#maxSpans = maxSpans;
    this.#maxSpansPerTrace = Math.min(maxSpansPerTrace, maxSpans);
  }

  /** How many traces and spans are kept. */
  get size(): { traces: number; spans: number } {
    return { traces: this.#traces.size, spans: this.#spanCount };
  }

  /** Keeps `spans`; returns how many were new. */
  add(spans: readonly CollectedSpan[]): number {
    let added = 0;
    for (const span of spans) {
      let trace = this.#traces.get(span.traceId);
      if (trace) {
        if (trace.spans.has(span.spanId) || trace.spans.size >= this.#maxSpansPerTrace) continue;
        this.#traces.delete(span.traceId);
      } else {
        trace = { traceId: span.traceId, spans: new Map(), summary: undefined };
      }
      this.#traces.set(span.traceId, trace);
      trace.spans.set(span.spanId, span);
      trace.summary = undefined;
      this.#spanCount++;
      added++;
      this.#evict(trace);
    }
    return added;
  }

  /** The traces that match `query`, newest (by start) or slowest first. */
  search(query: OpsTraceQuery & { cursor?: string | undefined }): OpsTraceSummary[] {
    const after = query.cursor === undefined ? undefined : readCursor(query.cursor);
    const matches: Summary[] = [];
    for (const trace of this.#traces.values()) {
      if (query.traceId && !trace.traceId.startsWith(query.traceId)) continue;
      const summary = summarize(trace);
      if (query.service && !summary.services.includes(query.service)) continue;
      if (query.route && !summary.routes.has(query.route)) continue;
      if (query.status && summary.error !== (query.status === 'error')) continue;
      if (query.minDurationMs !== undefined && summary.durationMs < query.minDurationMs) continue;
      matches.push(summary);
    }
    const keyed = matches.map((summary) => ({
      summary,
      key: { k: sortKey(publicSummary(summary), query.sort), id: summary.traceId },
    }));
    keyed.sort((a, b) => compareDescending(a.key, b.key));
    return keyed
      .filter((m) => !after || compareDescending(m.key, after) > 0)
      .slice(0, query.limit ?? DEFAULT_LIMIT)
      .map((m) => publicSummary(m.summary));
  }

  /** Every span kept of one trace, by start time, or `undefined` when none is. */
  trace(traceId: string): OpsTrace | undefined {
    const trace = this.#traces.get(traceId);
    if (!trace) return undefined;
    const { startMs } = summarize(trace);
    // Spans that start in the same instant (a server span and its first call) keep parents first.
    const depths = new Map<CollectedSpan, number>();
    for (const span of trace.spans.values()) {
      let d = 0;
      for (let p = span.parentSpanId; p && d < 64; d++) p = trace.spans.get(p)?.parentSpanId ?? null;
      depths.set(span, d);
    }
    const spans = [...trace.spans.values()].sort(
      (a, b) => a.startMs - b.startMs || depths.get(a)! - depths.get(b)!,
    );
    return { traceId, spans: spans.map((s) => opsSpan(s, startMs)) };
  }

  #evict(keep: StoredTrace): void {
    while (this.#traces.size > this.#maxTraces || this.#spanCount > this.#maxSpans) {
      const oldest = this.#traces.values().next().value;
      if (!oldest || oldest === keep) return;
      this.#traces.delete(oldest.traceId);
      this.#spanCount -= oldest.spans.size;
    }
  }
}

/** The trace's summary, computed once per change. */
function summarize(trace: StoredTrace): Summary {
  if (trace.summary) return trace.summary;
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  let error = false;
  const services = new Set<string>();
  const routes = new Set<string>();
  for (const span of trace.spans.values()) {
    startMs = Math.min(startMs, span.startMs);
    endMs = Math.max(endMs, span.startMs + span.durationMs);
    error ||= span.status === 'error';
    services.add(span.service);
    const route = span.attributes['http.route'];
    if (typeof route === 'string') routes.add(route);
  }
  const root = rootOf(trace.spans);
  const route = root.attributes['http.route'];
  const status = root.attributes['http.response.status_code'];
  trace.summary = {
    traceId: trace.traceId,
    service: root.service,
    name: root.name,
    route: typeof route === 'string' ? route : null,
    httpStatus: typeof status === 'number' && Number.isInteger(status) ? status : null,
    startTime: new Date(startMs).toISOString(),
    durationMs: round(endMs - startMs),
    spanCount: trace.spans.size,
    services: [...services].sort(),
    error,
    startMs,
    routes,
  };
  return trace.summary;
}

/**
 * The root: the earliest span whose parent is not in the trace (the one that started it, or —
 * when only part of a trace was kept — the earliest of the parts).
 */
function rootOf(spans: Map<string, CollectedSpan>): CollectedSpan {
  let root: CollectedSpan | undefined;
  let earliest: CollectedSpan | undefined;
  for (const span of spans.values()) {
    if (!earliest || span.startMs < earliest.startMs) earliest = span;
    const orphan = span.parentSpanId === null || !spans.has(span.parentSpanId);
    if (orphan && (!root || span.startMs < root.startMs)) root = span;
  }
  return (root ?? earliest)!;
}

function publicSummary({ startMs: _start, routes: _routes, ...summary }: Summary): OpsTraceSummary {
  return summary;
}

function opsSpan(span: CollectedSpan, traceStartMs: number): OpsSpan {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    service: span.service,
    instance: span.instance,
    name: span.name,
    kind: span.kind,
    startTime: new Date(span.startMs).toISOString(),
    offsetMs: round(Math.max(0, span.startMs - traceStartMs)),
    durationMs: round(span.durationMs),
    status: span.status,
    attributes: span.attributes,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1_000) / 1_000;
}
