/**
 * The layout of one trace's waterfall, as a pure function of its spans: which row each span takes
 * (depth-first from the roots, siblings by start), how deep it is nested, and where its bar lies
 * as percentages of the trace's length. Spans whose parent was not kept (or that sit in a parent
 * loop) are shown as roots, so every span the collector kept gets exactly one row.
 */
import type { OpsSpan } from '@bazaar/contracts';

/** One row of the waterfall. */
export interface WaterfallRow {
  span: OpsSpan;
  /** 0 for a root, 1 for its children, … */
  depth: number;
  /** Where the bar starts, in percent of the trace's length (0–100). */
  leftPct: number;
  /** How long the bar is, in percent of the trace's length (0–100, and left + width ≤ 100). */
  widthPct: number;
  /** The index of the span's service in `Waterfall.services` (its colour). */
  serviceIndex: number;
}

/** A trace laid out for drawing. */
export interface Waterfall {
  /** From the first span's start to the last span's end, in ms. */
  totalMs: number;
  /** Every service of the trace, in the order the rows first show it. */
  services: string[];
  rows: WaterfallRow[];
}

/** Lays out `spans` (any order) as waterfall rows. */
export function layoutWaterfall(spans: readonly OpsSpan[]): Waterfall {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const span of spans) {
    start = Math.min(start, span.offsetMs);
    end = Math.max(end, span.offsetMs + span.durationMs);
  }
  if (spans.length === 0) start = end = 0;
  const totalMs = end - start;

  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, OpsSpan[]>();
  const roots: OpsSpan[] = [];
  for (const span of spans) {
    const parent = span.parentSpanId;
    if (parent === null || parent === span.spanId || !ids.has(parent)) roots.push(span);
    else {
      const siblings = children.get(parent);
      if (siblings) siblings.push(span);
      else children.set(parent, [span]);
    }
  }

  const rows: WaterfallRow[] = [];
  const services: string[] = [];
  const placed = new Set<string>();
  const place = (span: OpsSpan, depth: number) => {
    // Iterative, so a deep trace cannot overflow the stack.
    const stack: { span: OpsSpan; depth: number }[] = [{ span, depth }];
    while (stack.length > 0) {
      const next = stack.pop() as { span: OpsSpan; depth: number };
      if (placed.has(next.span.spanId)) continue;
      placed.add(next.span.spanId);
      rows.push(row(next.span, next.depth, start, totalMs, serviceIndex(services, next.span.service)));
      const kids = byStart(children.get(next.span.spanId) ?? []);
      for (let i = kids.length - 1; i >= 0; i--)
        stack.push({ span: kids[i] as OpsSpan, depth: next.depth + 1 });
    }
  };
  for (const root of byStart(roots)) place(root, 0);
  // What is left hangs in a loop of parents: show each such span as a root, by start.
  for (const span of byStart(spans)) if (!placed.has(span.spanId)) place(span, 0);
  return { totalMs, services, rows };
}

/** Marks along the trace's time axis: 0, ¼, ½, ¾ and the whole, as percent and milliseconds. */
export function waterfallTicks(totalMs: number, parts = 4): { pct: number; ms: number }[] {
  return Array.from({ length: parts + 1 }, (_, i) => ({ pct: (100 * i) / parts, ms: (totalMs * i) / parts }));
}

/** Spans by start, keeping the given order between equal starts. */
function byStart(spans: readonly OpsSpan[]): OpsSpan[] {
  return [...spans].sort((a, b) => a.offsetMs - b.offsetMs);
}

function serviceIndex(services: string[], service: string): number {
  const known = services.indexOf(service);
  if (known >= 0) return known;
  services.push(service);
  return services.length - 1;
}

function row(span: OpsSpan, depth: number, start: number, totalMs: number, index: number): WaterfallRow {
  // A trace of one instant: every bar starts at 0 and is as thin as the page draws it.
  if (totalMs <= 0) return { span, depth, leftPct: 0, widthPct: 0, serviceIndex: index };
  const leftPct = clampPct(((span.offsetMs - start) / totalMs) * 100);
  const widthPct = Math.min(clampPct((span.durationMs / totalMs) * 100), 100 - leftPct);
  return { span, depth, leftPct, widthPct, serviceIndex: index };
}

function clampPct(value: number): number {
  return Math.min(100, Math.max(0, value));
}
