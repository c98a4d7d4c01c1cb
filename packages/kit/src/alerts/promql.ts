import type { Condition, Expr, Selector } from './expr.ts';

/** The PromQL text of an expression. */
export function renderExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'instant':
      return renderSelector(expr.selector);
    case 'rate':
      return `rate(${renderSelector(expr.selector)}[${renderDuration(expr.windowSeconds)}])`;
    case 'aggregate': {
      const by = expr.by.length > 0 ? ` by (${expr.by.join(', ')})` : '';
      return `${expr.op}${by} (${renderExpr(expr.of)})`;
    }
    case 'divide':
      return `${operand(expr.numerator)} / ${operand(expr.denominator)}`;
    case 'histogramQuantile':
      return `histogram_quantile(${expr.q}, ${renderExpr(expr.of)})`;
  }
}

/** The PromQL text of a condition: `expr op threshold`. */
export function renderCondition(condition: Condition): string {
  return `${renderExpr(condition.expr)} ${condition.op} ${condition.threshold}`;
}

/** `metric{label="value",...}`. */
export function renderSelector(of: Selector): string {
  if (of.matchers.length === 0) return of.metric;
  const matchers = of.matchers.map((m) => `${m.label}${m.op}${quote(m.value)}`);
  return `${of.metric}{${matchers.join(', ')}}`;
}

/** A duration in Prometheus' notation: `5m`, `90s`, `1h`. */
export function renderDuration(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A PromQL string literal (its escapes are JSON's for the characters we use). */
function quote(value: string): string {
  return JSON.stringify(value);
}

/** A division operand, in parentheses when it is itself a division. */
function operand(expr: Expr): string {
  return expr.kind === 'divide' ? `(${renderExpr(expr)})` : renderExpr(expr);
}
