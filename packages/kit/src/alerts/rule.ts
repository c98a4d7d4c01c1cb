import { type EvaluateOptions, evaluateCondition, type SeriesSource } from './evaluate.ts';
import { type Condition, type Labels, longestWindow } from './expr.ts';

/** `page`: act now; `ticket`: act today. */
export type Severity = 'page' | 'ticket';

/** One input series of an example: sampled every minute from minute 0. */
export interface ExampleSeries {
  metric: string;
  labels: Labels;
  values: readonly number[];
}

/**
 * A case a rule is tested with, by promtool and by the embedded evaluator alike: input series,
 * the minute at which the rule is checked, and the alerts firing then (none: a quiet case).
 */
export interface AlertExample {
  title: string;
  series: readonly ExampleSeries[];
  /** Checked at this minute; every series has a value for each minute up to it. */
  atMinute: number;
  /** The labels of each alert firing at `atMinute`, besides `alertname` and `severity`. */
  firing: readonly Labels[];
}

/** An alerting rule, declared once: rendered for Prometheus and evaluated in embedded mode. */
export interface AlertRule {
  /** `alertname`, PascalCase as Prometheus names alerts. */
  name: string;
  severity: Severity;
  summary: string;
  /** The window rates are taken over, in seconds; undefined when the rule reads gauges only. */
  windowSeconds?: number;
  /** How long the condition must hold before the alert fires, in seconds. */
  forSeconds: number;
  condition: Condition;
  /** At least one firing and one quiet case. */
  examples: readonly AlertExample[];
}

/** What {@link alertRule} is given: the condition is built from the rule's own window. */
export interface AlertRuleSpec extends Omit<AlertRule, 'condition'> {
  condition: (windowSeconds: number) => Condition;
}

/** Declares a rule whose condition reads the rule's window (so the two cannot disagree). */
export function alertRule(spec: AlertRuleSpec): AlertRule {
  const condition = spec.condition(spec.windowSeconds ?? 0);
  if (longestWindow(condition.expr) !== (spec.windowSeconds ?? 0))
    throw new Error(`${spec.name}: its condition must read its window and no other`);
  return { ...spec, condition };
}

/** Seconds between two samples of an example series, and between two evaluations of an example. */
export const EXAMPLE_STEP_SECONDS = 60;

/** One element for which a rule's condition holds: the alert's labels and the expression's value. */
export interface RuleElement {
  labels: Labels;
  value: number;
}

/** The elements for which the rule's condition holds at `at`, labelled as their alerts are. */
export function evaluateRule(
  rule: AlertRule,
  source: SeriesSource,
  at: number,
  options: EvaluateOptions = {},
): RuleElement[] {
  return evaluateCondition(rule.condition, source, at, options).map((e) => {
    const { __name__: _, ...labels } = e.labels;
    return { labels, value: e.value };
  });
}
