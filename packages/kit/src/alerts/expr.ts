/**
 * Alert expressions as a small typed tree. Each rule is written once with these builders; the tree
 * is rendered to PromQL for Prometheus (`promql.ts`) and computed over scraped samples by the
 * embedded evaluator (`evaluate.ts`), so there is no PromQL text to parse anywhere.
 */

/** A series' labels, `__name__` included where the series has one. */
export type Labels = Readonly<Record<string, string>>;

/** How a label is matched: equal, not equal, matches or does not match a (fully anchored) regex. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher of a selector. */
export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

/** A metric name with label matchers: `metric{label="value"}`. */
export interface Selector {
  metric: string;
  matchers: readonly Matcher[];
}

/** An aggregation over the series of an instant vector. */
export type AggregateOp = 'sum' | 'max' | 'min';

/** A node of the expression tree; every node yields an instant vector. */
export type Expr =
  /** The latest sample of every matching series. */
  | { kind: 'instant'; selector: Selector }
  /** Per-second increase of every matching counter over the window (Prometheus' `rate`). */
  | { kind: 'rate'; selector: Selector; windowSeconds: number }
  /** Series grouped by the `by` labels and folded with `op`. */
  | { kind: 'aggregate'; op: AggregateOp; by: readonly string[]; of: Expr }
  /** Each left element divided by the right one with the same labels. */
  | { kind: 'divide'; numerator: Expr; denominator: Expr }
  /** The `q` quantile of cumulative histogram buckets (series told apart by `le`). */
  | { kind: 'histogramQuantile'; q: number; of: Expr };

/** A comparison of an expression's elements with a threshold: the elements for which it holds. */
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** An alert's condition: `expr op threshold`. */
export interface Condition {
  expr: Expr;
  op: CompareOp;
  threshold: number;
}

/** A label value that must match exactly; or, given with {@link not} / {@link matches}, otherwise. */
export type MatcherSpec = string | { op: MatchOp; value: string };

/** `metric{label="value", ...}`. */
export function selector(metric: string, labels: Readonly<Record<string, MatcherSpec>> = {}): Selector {
  const matchers = Object.entries(labels).map(([label, spec]) =>
    typeof spec === 'string' ? { label, op: '=' as const, value: spec } : { label, ...spec },
  );
  return { metric, matchers };
}

/** A label matcher: the value matches the regex (anchored at both ends, as in PromQL). */
export function matches(regex: string): MatcherSpec {
  return { op: '=~', value: regex };
}

/** A label matcher: the value does not match the regex. */
export function notMatches(regex: string): MatcherSpec {
  return { op: '!~', value: regex };
}

/** A label matcher: the value is not this one. */
export function not(value: string): MatcherSpec {
  return { op: '!=', value };
}

/** Seconds in `n` minutes (windows and `for` durations are kept in seconds). */
export function minutes(n: number): number {
  return n * 60;
}

/** The latest value of every matching series: a gauge, or `up`. */
export function instant(of: Selector): Expr {
  return { kind: 'instant', selector: of };
}

/** `sum by (by) (rate(selector[window]))`: a counter's per-second rate, summed per group. */
export function sumRate(of: Selector, windowSeconds: number, by: readonly string[]): Expr {
  return { kind: 'aggregate', op: 'sum', by, of: { kind: 'rate', selector: of, windowSeconds } };
}

/** `numerator / denominator`, element by element (a share when the numerator counts a part). */
export function ratio(numerator: Expr, denominator: Expr): Expr {
  return { kind: 'divide', numerator, denominator };
}

/**
 * `histogram_quantile(q, sum by (by, le) (rate(buckets[window])))`: the `q` quantile of a
 * histogram over the window, per group. `buckets` selects the `_bucket` series.
 */
export function quantile(q: number, buckets: Selector, windowSeconds: number, by: readonly string[]): Expr {
  return { kind: 'histogramQuantile', q, of: sumRate(buckets, windowSeconds, [...by, 'le']) };
}

/** `max by (by) (selector)`: the highest latest value per group. */
export function maxBy(of: Selector, by: readonly string[]): Expr {
  return { kind: 'aggregate', op: 'max', by, of: instant(of) };
}

/** `min by (by) (selector)`: the lowest latest value per group. */
export function minBy(of: Selector, by: readonly string[]): Expr {
  return { kind: 'aggregate', op: 'min', by, of: instant(of) };
}

/** `expr > threshold`. */
export function above(expr: Expr, threshold: number): Condition {
  return { expr, op: '>', threshold };
}

/** `expr < threshold`. */
export function below(expr: Expr, threshold: number): Condition {
  return { expr, op: '<', threshold };
}

/** `expr == value`. */
export function equals(expr: Expr, value: number): Condition {
  return { expr, op: '==', threshold: value };
}

/** The selectors an expression reads (what a sample store must keep). */
export function selectorsOf(expr: Expr): Selector[] {
  switch (expr.kind) {
    case 'instant':
    case 'rate':
      return [expr.selector];
    case 'aggregate':
    case 'histogramQuantile':
      return selectorsOf(expr.of);
    case 'divide':
      return [...selectorsOf(expr.numerator), ...selectorsOf(expr.denominator)];
  }
}

/** The longest range an expression reads, in seconds (0 for instant selectors only). */
export function longestWindow(expr: Expr): number {
  switch (expr.kind) {
    case 'instant':
      return 0;
    case 'rate':
      return expr.windowSeconds;
    case 'aggregate':
    case 'histogramQuantile':
      return longestWindow(expr.of);
    case 'divide':
      return Math.max(longestWindow(expr.numerator), longestWindow(expr.denominator));
  }
}

const compiled = new Map<string, RegExp>();

/** Whether `labels` satisfy the matcher; a missing label reads as the empty string, as in PromQL. */
export function matcherHolds(matcher: Matcher, labels: Labels): boolean {
  const value = labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return anchored(matcher.value).test(value);
    case '!~':
      return !anchored(matcher.value).test(value);
  }
}

/** Whether a series named `name` with `labels` is selected by `of`. */
export function selects(of: Selector, name: string, labels: Labels): boolean {
  return of.metric === name && of.matchers.every((m) => matcherHolds(m, labels));
}

function anchored(regex: string): RegExp {
  let re = compiled.get(regex);
  if (!re) {
    re = new RegExp(`^(?:${regex})$`, 's');
    compiled.set(regex, re);
  }
  return re;
}
