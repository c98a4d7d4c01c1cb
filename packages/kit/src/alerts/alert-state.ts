import { signature } from './evaluate.ts';
import type { Labels } from './expr.ts';
import type { AlertRule, RuleElement, Severity } from './rule.ts';

/** An alert whose condition holds: `pending` until it has held for the rule's `for`, then `firing`. */
export interface ActiveAlert {
  name: string;
  severity: Severity;
  summary: string;
  labels: Labels;
  /** The expression's value at the last evaluation. */
  value: number;
  /** When the condition started to hold (ms). */
  activeSince: number;
  state: 'pending' | 'firing';
}

/**
 * The alerts of a set of rules across evaluations, as Prometheus keeps them: an element for which
 * a rule's condition holds becomes a pending alert, fires once it has held for `for` (scaled by
 * `timeScale`), and is resolved (dropped) at the first evaluation where it no longer holds.
 */
export class AlertTracker {
  readonly #timeScale: number;
  readonly #byRule = new Map<string, Map<string, ActiveAlert>>();

  constructor(options: { timeScale?: number } = {}) {
    this.#timeScale = options.timeScale ?? 1;
  }

  /** Records one evaluation of `rule` at `at` (ms) that found `elements`. */
  record(rule: AlertRule, elements: readonly RuleElement[], at: number): void {
    const before = this.#byRule.get(rule.name) ?? new Map<string, ActiveAlert>();
    const now = new Map<string, ActiveAlert>();
    const holdMs = rule.forSeconds * 1000 * this.#timeScale;
    for (const e of elements) {
      const key = signature(e.labels);
      const activeSince = before.get(key)?.activeSince ?? at;
      now.set(key, {
        name: rule.name,
        severity: rule.severity,
        summary: rule.summary,
        labels: e.labels,
        value: e.value,
        activeSince,
        state: at - activeSince >= holdMs ? 'firing' : 'pending',
      });
    }
    this.#byRule.set(rule.name, now);
  }

  /** Every pending or firing alert: firing first, then by rule name and labels. */
  active(): ActiveAlert[] {
    const all = [...this.#byRule.values()].flatMap((alerts) => [...alerts.values()]);
    return all.sort(
      (a, b) =>
        (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1) ||
        a.name.localeCompare(b.name) ||
        signature(a.labels).localeCompare(signature(b.labels)),
    );
  }

  /** The alerts firing now. */
  firing(): ActiveAlert[] {
    return this.active().filter((a) => a.state === 'firing');
  }
}
