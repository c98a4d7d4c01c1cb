import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { TimedSeries } from '../src/timed-series.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const NAMES = {
  counter: { name: 'probe_requests_total', help: 'Requests' },
  histogram: { name: 'probe_request_duration_seconds', help: 'Latency' },
};
// Below every bound, exactly on one, between two, above every one; two label sets.
const OBSERVED: [Record<'route' | 'status', string>, number][] = [
  [{ route: '/a', status: '2xx' }, 0.0004],
  [{ route: '/a', status: '2xx' }, 0.01],
  [{ route: '/a', status: '2xx' }, 0.05],
  [{ route: '/a', status: '5xx' }, 3],
  [{ route: '/a', status: '2xx' }, 0.05],
];

/** The same observations through prom-client's own counter and histogram, and through tallies. */
function registries() {
  const theirs = new Registry();
  const ours = new Registry();
  for (const r of [theirs, ours]) r.setDefaultLabels({ service: 'probe' });
  const labelNames = ['route', 'status'] as const;
  const counter = new Counter({ ...NAMES.counter, labelNames, registers: [theirs] });
  const histogram = new Histogram({
    ...NAMES.histogram,
    labelNames,
    buckets: BUCKETS,
    registers: [theirs],
  });
  const series = new TimedSeries({
    counter: NAMES.counter,
    histogram: { ...NAMES.histogram, buckets: BUCKETS },
    labelNames,
    registers: [ours],
  });
  for (const [labels, seconds] of OBSERVED) {
    counter.inc(labels);
    histogram.observe(labels, seconds);
    series.tally(labels).observe(seconds);
  }
  return { theirs, ours, series };
}

/** A series line's name, its labels in name order, and its value: label order does not matter. */
function normalized(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^(\w+)(?:\{(.*)\})? (.+)$/.exec(line);
      if (!m || line.startsWith('#')) return line;
      const labels = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
      return `${m[1]}{${labels}} ${m[3]}`;
    })
    .sort();
}

test('tallies read out exactly as prom-client counts the same requests, as text and as JSON', async () => {
  const { theirs, ours } = registries();
  assert.deepEqual(normalized(await ours.metrics()), normalized(await theirs.metrics()));
  const byName = (list: { name: string }[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  const json = (list: unknown) =>
    JSON.parse(JSON.stringify(list), (_key, value) =>
      // Label order and the place prom-client keeps a series' labels do not matter to a reader.
      value && typeof value === 'object' && !Array.isArray(value) && 'le' in value
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
        : value,
    );
  const theirJson = byName(await theirs.getMetricsAsJSON());
  const ourJson = byName(await ours.getMetricsAsJSON());
  assert.equal(ourJson.length, 2);
  for (const [i, metric] of ourJson.entries()) {
    const expected = json(theirJson[i]) as { values: { labels: object; value: number }[] };
    const actual = json(metric) as { values: { labels: object; value: number }[] };
    assert.deepEqual(
      actual.values.map((v) => ({ labels: v.labels, value: v.value })),
      expected.values.map((v) => ({ labels: v.labels, value: v.value })),
    );
  }
});

test('a tally is made once per label set and kept; a non-finite time is not counted', () => {
  const { series } = registries();
  const a = series.tally({ route: '/a', status: '2xx' });
  assert.equal(series.tally({ status: '2xx', route: '/a' }), a);
  assert.equal(series.tallies().length, 2);
  assert.equal(a.count, 4);
  assert.deepEqual([...a.buckets], [1, 1, 2, 0, 0]);
  a.observe(Number.NaN);
  assert.equal(a.count, 4);
});
