/**
 * The embedded evaluator: computes an expression tree over stored samples the way Prometheus 2
 * computes the PromQL it renders to — the same range selection (`[t − window, t]`), the same
 * extrapolated `rate`, staleness and 5-minute lookback for instant selectors, one-to-one vector
 * matching, and the same `histogram_quantile` interpolation — so both engines agree on every
 * rule's examples (the promtool tests check the values this file computes).
 */
import type { AggregateOp, CompareOp, Condition, Expr, Labels, Selector } from './expr.ts';

/** A series' samples, oldest first; a NaN value is a staleness marker (the series went away). */
export interface SeriesData {
  labels: Labels;
  times: readonly number[];
  values: readonly number[];
}

/** Where the evaluator reads series from. */
export interface SeriesSource {
  /** Every series the selector selects. */
  select(of: Selector): Iterable<SeriesData>;
}

/** One element of an instant vector. */
export interface VectorElement {
  labels: Labels;
  value: number;
}

/** Settings of one evaluation. */
export interface EvaluateOptions {
  /** Multiplies every window and the lookback (tests shrink minutes to seconds); default 1. */
  timeScale?: number;
}

/** How far back an instant selector looks for a series' latest sample (Prometheus' default). */
export const LOOKBACK_MS = 5 * 60_000;

const NAME = '__name__';

/** The instant vector `expr` yields at `at` (ms). */
export function evaluate(
  expr: Expr,
  source: SeriesSource,
  at: number,
  options: EvaluateOptions = {},
): VectorElement[] {
  const scale = options.timeScale ?? 1;
  switch (expr.kind) {
    case 'instant': {
      const out: VectorElement[] = [];
      for (const series of source.select(expr.selector)) {
        const value = latest(series, at, LOOKBACK_MS * scale);
        if (value !== undefined) out.push({ labels: series.labels, value });
      }
      return out;
    }
    case 'rate': {
      const windowMs = expr.windowSeconds * 1000 * scale;
      const out: VectorElement[] = [];
      for (const series of source.select(expr.selector)) {
        const value = extrapolatedRate(series, at - windowMs, at);
        if (value !== undefined) out.push({ labels: withoutName(series.labels), value });
      }
      return out;
    }
    case 'aggregate':
      return aggregate(expr.op, expr.by, evaluate(expr.of, source, at, options));
    case 'divide': {
      const denominators = new Map<string, number>();
      for (const e of evaluate(expr.denominator, source, at, options)) {
        const key = signature(e.labels);
        if (!denominators.has(key)) denominators.set(key, e.value);
      }
      const out: VectorElement[] = [];
      for (const e of evaluate(expr.numerator, source, at, options)) {
        const denominator = denominators.get(signature(e.labels));
        if (denominator !== undefined)
          out.push({ labels: withoutName(e.labels), value: e.value / denominator });
      }
      return out;
    }
    case 'histogramQuantile':
      return histogramQuantile(expr.q, evaluate(expr.of, source, at, options));
  }
}

/** The elements of the condition's expression for which the comparison holds (values kept). */
export function evaluateCondition(
  condition: Condition,
  source: SeriesSource,
  at: number,
  options: EvaluateOptions = {},
): VectorElement[] {
  return evaluate(condition.expr, source, at, options).filter((e) =>
    compare(e.value, condition.op, condition.threshold),
  );
}

function compare(value: number, op: CompareOp, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** The latest sample at or before `at` within the lookback, unless it is a staleness marker. */
function latest(series: SeriesData, at: number, lookbackMs: number): number | undefined {
  for (let i = series.times.length - 1; i >= 0; i--) {
    const t = series.times[i]!;
    if (t > at) continue;
    if (at - t > lookbackMs) return undefined;
    const value = series.values[i]!;
    return Number.isNaN(value) ? undefined : value;
  }
  return undefined;
}

/**
 * Prometheus' `rate`: the increase between the first and last samples in `[start, end]`
 * (counter resets added back), extrapolated towards the window's edges when the samples come
 * close to them, per second of the window. Undefined with fewer than two samples.
 */
function extrapolatedRate(series: SeriesData, start: number, end: number): number | undefined {
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < series.times.length; i++) {
    const t = series.times[i]!;
    const v = series.values[i]!;
    if (t < start || t > end || Number.isNaN(v)) continue;
    times.push(t);
    values.push(v);
  }
  const n = times.length;
  if (n < 2) return undefined;
  const first = values[0]!;
  let result = values[n - 1]! - first;
  let last = 0;
  for (const v of values) {
    if (v < last) result += last;
    last = v;
  }
  let durationToStart = (times[0]! - start) / 1000;
  const durationToEnd = (end - times[n - 1]!) / 1000;
  const sampledInterval = (times[n - 1]! - times[0]!) / 1000;
  const averageBetween = sampledInterval / (n - 1);
  if (result > 0 && first >= 0) {
    // A counter cannot have been below zero: extrapolate no further back than where it was 0.
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageBetween * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2;
  // In Prometheus' order of operations, so that both engines agree to the last bit.
  let factor = extrapolateTo / sampledInterval;
  factor /= (end - start) / 1000;
  return result * factor;
}

function aggregate(op: AggregateOp, by: readonly string[], input: VectorElement[]): VectorElement[] {
  const groups = new Map<string, VectorElement>();
  for (const e of input) {
    const labels: Record<string, string> = {};
    for (const name of by) {
      const value = e.labels[name];
      if (value) labels[name] = value;
    }
    const key = signature(labels);
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { labels, value: e.value });
    } else if (op === 'sum') {
      group.value += e.value;
    } else if (op === 'max') {
      if (group.value < e.value || Number.isNaN(group.value)) group.value = e.value;
    } else if (group.value > e.value || Number.isNaN(group.value)) {
      group.value = e.value;
    }
  }
  return [...groups.values()];
}

/** `histogram_quantile` over elements that differ by `le`, one result per other label set. */
function histogramQuantile(q: number, input: VectorElement[]): VectorElement[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const e of input) {
    const le = parseBound(e.labels.le);
    if (le === undefined) continue;
    const { le: _, [NAME]: __, ...labels } = e.labels;
    const key = signature(labels);
    let group = groups.get(key);
    if (!group) {
      group = { labels, buckets: [] };
      groups.set(key, group);
    }
    group.buckets.push({ upperBound: le, count: e.value });
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, value: bucketQuantile(q, g.buckets) }));
}

interface Bucket {
  upperBound: number;
  count: number;
}

/** Prometheus' `bucketQuantile`: linear interpolation inside the bucket the rank falls in. */
function bucketQuantile(q: number, unsorted: Bucket[]): number {
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const sorted = [...unsorted].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.at(-1)?.upperBound !== Number.POSITIVE_INFINITY) return Number.NaN;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const previous = buckets.at(-1);
    if (previous && previous.upperBound === b.upperBound) previous.count += b.count;
    else buckets.push({ ...b });
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return Number.NaN;
  const observations = buckets.at(-1)!.count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = buckets.length - 1;
  for (let i = 0; i < buckets.length - 1; i++) {
    if (buckets[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function parseBound(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  if (/^\+?inf$/i.test(le)) return Number.POSITIVE_INFINITY;
  const value = Number(le);
  return le.trim() === '' || Number.isNaN(value) ? undefined : value;
}

function withoutName(labels: Labels): Labels {
  if (!(NAME in labels)) return labels;
  const { [NAME]: _, ...rest } = labels;
  return rest;
}

/** A key of a label set, `__name__` left out (the signature PromQL matches vectors on). */
export function signature(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .filter((k) => k !== NAME)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}
