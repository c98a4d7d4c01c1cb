import { AlertTracker } from './alert-state.ts';
import { evaluate, type VectorElement } from './evaluate.ts';
import type { Labels } from './expr.ts';
import { type AlertExample, type AlertRule, EXAMPLE_STEP_SECONDS, evaluateRule } from './rule.ts';
import { SeriesStore } from './series-store.ts';

/** What the embedded evaluator makes of an example at its minute. */
export interface ExampleOutcome {
  /** Labels of the alerts firing (without `alertname` and `severity`). */
  firing: Labels[];
  /** The rule's expression (before the threshold) at that minute. */
  values: VectorElement[];
}

/**
 * Runs an example through the embedded evaluator as promtool runs it through Prometheus: the
 * series' samples arrive a step apart, the rule is evaluated at every step, and the outcome is
 * read at the example's minute. `timeScale` shrinks the step, the windows and `for` alike.
 */
export function runExample(
  rule: AlertRule,
  example: AlertExample,
  options: { timeScale?: number } = {},
): ExampleOutcome {
  const timeScale = options.timeScale ?? 1;
  const stepMs = EXAMPLE_STEP_SECONDS * 1000 * timeScale;
  const store = new SeriesStore({ retentionMs: Number.POSITIVE_INFINITY });
  const tracker = new AlertTracker({ timeScale });
  let at = 0;
  for (let minute = 0; minute <= example.atMinute; minute++) {
    at = minute * stepMs;
    const samples = example.series.flatMap((s) => {
      const value = s.values[minute];
      return value === undefined ? [] : [{ name: s.metric, labels: s.labels, value }];
    });
    store.ingest(at, [{ target: 'example', samples }]);
    tracker.record(rule, evaluateRule(rule, store, at, { timeScale }), at);
  }
  return {
    firing: tracker.firing().map((a) => a.labels),
    values: evaluate(rule.condition.expr, store, at, { timeScale }),
  };
}
