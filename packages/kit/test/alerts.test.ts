import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlertTracker } from '../src/alerts/alert-state.ts';
import { evaluate, type SeriesSource } from '../src/alerts/evaluate.ts';
import { runExample } from '../src/alerts/examples.ts';
import {
  above,
  instant,
  maxBy,
  minutes,
  notMatches,
  quantile,
  ratio,
  selector,
  sumRate,
} from '../src/alerts/expr.ts';
import { renderCondition, renderDuration, renderExpr } from '../src/alerts/promql.ts';
import { alertRule, evaluateRule } from '../src/alerts/rule.ts';
import { alertRules } from '../src/alerts/rules.ts';
import { SeriesStore } from '../src/alerts/series-store.ts';

const sortedLabels = (list: readonly Record<string, string>[]) =>
  list.map((l) => JSON.stringify(Object.entries(l).sort())).sort();

/** A store holding one series per entry, sampled at the given (ms, value) points. */
function storeOf(series: { name: string; labels: Record<string, string>; points: [number, number][] }[]) {
  const store = new SeriesStore({ retentionMs: Number.POSITIVE_INFINITY });
  const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  for (const t of times) {
    const samples = series.flatMap((s) =>
      s.points.filter(([at]) => at === t).map(([, value]) => ({ name: s.name, labels: s.labels, value })),
    );
    store.ingest(t, [{ target: 'a', samples }]);
  }
  return store;
}

describe('the rule list', () => {
  test('every rule has a firing and a quiet example whose series cover its minute', () => {
    for (const rule of alertRules) {
      assert.ok(
        rule.examples.some((e) => e.firing.length > 0),
        `${rule.name} has a firing example`,
      );
      assert.ok(
        rule.examples.some((e) => e.firing.length === 0),
        `${rule.name} has a quiet example`,
      );
      for (const e of rule.examples)
        for (const s of e.series)
          assert.equal(s.values.length, e.atMinute + 1, `${rule.name}: ${e.title}: ${s.metric}`);
    }
    assert.equal(new Set(alertRules.map((r) => r.name)).size, alertRules.length, 'names are unique');
  });

  for (const rule of alertRules) {
    for (const example of rule.examples) {
      test(`${rule.name}: ${example.title} — the embedded evaluator fires what the example says`, () => {
        const outcome = runExample(rule, example);
        assert.deepEqual(sortedLabels(outcome.firing), sortedLabels(example.firing));
      });
    }
  }

  test('scaling windows, `for` and the sampling step alike changes no example', () => {
    for (const rule of alertRules)
      for (const example of rule.examples)
        assert.deepEqual(
          sortedLabels(runExample(rule, example, { timeScale: 0.02 }).firing),
          sortedLabels(example.firing),
          `${rule.name}: ${example.title}`,
        );
  });

  test("a rule's condition must read the rule's own window", () => {
    assert.throws(
      () =>
        alertRule({
          name: 'Mismatched',
          severity: 'ticket',
          summary: '',
          windowSeconds: minutes(5),
          forSeconds: 0,
          condition: () => above(sumRate(selector('x_total'), minutes(1), []), 0),
          examples: [],
        }),
      /must read its window/,
    );
  });
});

describe('PromQL rendering', () => {
  test('each node of the tree renders as PromQL', () => {
    const requests = selector('http_server_requests_total', { route: notMatches('/metrics|/health/.*') });
    assert.equal(
      renderExpr(ratio(sumRate(requests, minutes(5), ['service']), sumRate(requests, minutes(5), []))),
      'sum by (service) (rate(http_server_requests_total{route!~"/metrics|/health/.*"}[5m])) / ' +
        'sum (rate(http_server_requests_total{route!~"/metrics|/health/.*"}[5m]))',
    );
    assert.equal(
      renderExpr(quantile(0.99, selector('d_bucket'), 90, ['service'])),
      'histogram_quantile(0.99, sum by (service, le) (rate(d_bucket[90s])))',
    );
    assert.equal(
      renderCondition(above(maxBy(selector('g', { a: 'x"y' }), ['service']), 60)),
      'max by (service) (g{a="x\\"y"}) > 60',
    );
    assert.equal(renderExpr(instant(selector('up'))), 'up');
    assert.deepEqual([renderDuration(3600), renderDuration(120), renderDuration(6)], ['1h', '2m', '6s']);
  });
});

describe('the evaluator', () => {
  const counter = (points: [number, number][], labels: Record<string, string> = { service: 's' }) => ({
    name: 'c_total',
    labels,
    points,
  });

  test('a rate needs two samples in the window, and adds back a counter reset', () => {
    const rate = sumRate(selector('c_total'), 60, ['service']);
    const one = storeOf([counter([[0, 5]])]);
    assert.deepEqual(evaluate(rate, one, 0), []);
    // 0 → 30 → (restart) 10 → 40 over 60 s sampled every 20 s: an increase of 70.
    const reset = storeOf([
      counter([
        [0, 0],
        [20_000, 30],
        [40_000, 10],
        [60_000, 40],
      ]),
    ]);
    const [element] = evaluate(rate, reset, 60_000);
    assert.deepEqual(element?.labels, { service: 's' });
    assert.ok(Math.abs(element!.value - 70 / 60) < 1e-12, String(element?.value));
  });

  test('a rate is extrapolated to the window edges as Prometheus does', () => {
    const rateAt = (points: [number, number][]) =>
      evaluate(sumRate(selector('c_total'), 60, []), storeOf([counter(points)]), 60_000)[0]!.value;
    // Edges within 1.1 sample intervals: the increase over 30 s stands for the whole 60 s window.
    const near = rateAt([
      [15_000, 100],
      [45_000, 130],
    ]);
    assert.ok(Math.abs(near - (30 * (60 / 30)) / 60) < 1e-12, String(near));
    // The start 40 s away (over 1.1 intervals of 10 s): extended by half an interval there only.
    const far = rateAt([
      [40_000, 100],
      [50_000, 110],
    ]);
    assert.ok(Math.abs(far - (10 * (25 / 10)) / 60) < 1e-12, String(far));
  });

  test('histogram_quantile interpolates inside the bucket the rank falls in', () => {
    const bucket = (le: string, perSecond: number) =>
      counter(
        [
          [0, 0],
          [60_000, perSecond * 60],
        ],
        { service: 's', le },
      );
    const store = storeOf([bucket('0.1', 50), bucket('1', 90), bucket('+Inf', 100)]);
    const rename: SeriesSource = { select: (of) => store.select({ ...of, metric: 'c_total' }) };
    const [p50] = evaluate(quantile(0.5, selector('x_bucket'), 60, ['service']), rename, 60_000);
    assert.ok(Math.abs(p50!.value - 0.1) < 1e-12, String(p50?.value));
    const [p99] = evaluate(quantile(0.99, selector('x_bucket'), 60, ['service']), rename, 60_000);
    assert.equal(p99!.value, 1, 'a rank in the +Inf bucket reads as the highest finite bound');
  });

  test('a series its target stopped reporting is gone at once (a staleness marker), not for the lookback', () => {
    const store = new SeriesStore({ retentionMs: minutes(10) * 1000 });
    const gauge = (value: number) => ({ name: 'g', labels: { service: 's' }, value });
    store.ingest(0, [{ target: 'a', samples: [gauge(3)] }]);
    assert.deepEqual(evaluate(instant(selector('g')), store, 1_000), [
      { labels: { service: 's', __name__: 'g' }, value: 3 },
    ]);
    store.ingest(2_000, [{ target: 'a' }]);
    assert.deepEqual(evaluate(instant(selector('g')), store, 2_000), [], 'a failed scrape ends it');
    store.ingest(4_000, [{ target: 'a', samples: [gauge(5)] }]);
    assert.equal(evaluate(instant(selector('g')), store, 4_000)[0]?.value, 5);
    store.ingest(6_000, []);
    assert.deepEqual(evaluate(instant(selector('g')), store, 6_000), [], 'a target gone ends it');
  });

  test('samples older than the retention are dropped, and so are series left without any', () => {
    const store = new SeriesStore({ retentionMs: 10_000 });
    store.ingest(0, [{ target: 'a', samples: [{ name: 'g', labels: {}, value: 1 }] }]);
    store.ingest(5_000, [{ target: 'b', samples: [{ name: 'h', labels: {}, value: 1 }] }]);
    assert.equal(store.size, 2);
    store.ingest(20_000, [{ target: 'b', samples: [{ name: 'h', labels: {}, value: 1 }] }]);
    assert.equal(store.size, 1);
    assert.deepEqual([...store.select(selector('h'))][0]?.times, [20_000]);
  });

  test('the store keeps only the series it is told to', () => {
    const store = new SeriesStore({ retentionMs: 10_000, keep: (name) => name === 'g' });
    store.ingest(0, [
      {
        target: 'a',
        samples: [
          { name: 'g', labels: {}, value: 1 },
          { name: 'h', labels: {}, value: 1 },
        ],
      },
    ]);
    assert.equal(store.size, 1);
  });
});

describe('alert states', () => {
  const rule = alertRules.find((r) => r.name === 'BazaarDeadLetters')!;
  const waiting = (value: number) => ({
    name: 'bazaar_dead_letters_waiting',
    labels: { service: 'cart' },
    value,
  });

  test('pending while the condition holds for less than `for` (scaled), firing after, resolved when it stops', () => {
    const store = new SeriesStore({ retentionMs: 60_000 });
    const tracker = new AlertTracker({ timeScale: 0.1 }); // `for` of 1 m becomes 6 s
    const step = (at: number, value: number) => {
      store.ingest(at, [{ target: 'cart-1', samples: [waiting(value)] }]);
      tracker.record(rule, evaluateRule(rule, store, at, { timeScale: 0.1 }), at);
      return tracker.active().map((a) => `${a.state}:${a.labels.service}:${a.value}`);
    };
    assert.deepEqual(step(0, 0), []);
    assert.deepEqual(step(1_000, 2), ['pending:cart:2']);
    assert.deepEqual(step(6_000, 2), ['pending:cart:2']);
    assert.deepEqual(step(7_000, 3), ['firing:cart:3']);
    assert.equal(tracker.firing()[0]?.activeSince, 1_000);
    assert.deepEqual(step(8_000, 0), []);
    assert.deepEqual(step(9_000, 1), ['pending:cart:1'], 'a new episode starts pending again');
  });
});
