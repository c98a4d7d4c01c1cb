/**
 * The metrics counted on every hop — requests served and calls made: a counter and a latency
 * histogram over the same labels. prom-client checks and hashes the labels and allocates on every
 * `inc` and `observe`, even through a child bound to its labels, and on the request path that was
 * most of what metrics cost. Here each label set is a `Tally` of plain numbers, made once and kept
 * by whoever counts into it; the registry reads the tallies when it is scraped, in prom-client's
 * own shapes, so `/metrics` (text and JSON) reads exactly as before.
 */
import type { Registry } from 'prom-client';

/** One label set's count, sum and per-bucket counts. */
export class Tally {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly buckets: Float64Array;
  readonly labels: Readonly<Record<string, string>>;
  readonly #bounds: readonly number[];

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  /** Counts one request or call that took `seconds`. */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    this.count++;
    this.sum += seconds;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]!++;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What a registry asks of a metric it exposes (prom-client's `Metric` shape, read-only). */
interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
  reset(): void;
}

/** A counter and a histogram over the same labels, fed from one tally per label set. */
export class TimedSeries<L extends string> {
  readonly #tallies = new Map<string, Tally>();
  readonly #labelNames: readonly L[];
  readonly #bounds: readonly number[];

  constructor(options: {
    counter: { name: string; help: string };
    histogram: { name: string; help: string; buckets: readonly number[] };
    labelNames: readonly L[];
    registers: Registry[];
  }) {
    this.#labelNames = options.labelNames;
    this.#bounds = [...options.histogram.buckets].sort((a, b) => a - b);
    const counter = this.#exposed(options.counter.name, options.counter.help, 'counter', (t) => [
      { labels: { ...t.labels }, value: t.count },
    ]);
    const histogram = this.#exposed(options.histogram.name, options.histogram.help, 'histogram', (t) =>
      this.#histogramValues(options.histogram.name, t),
    );
    for (const registry of options.registers) {
      registry.registerMetric(counter as never);
      registry.registerMetric(histogram as never);
    }
  }

  /** The tally of `labels`, made on first use and kept: hold on to it to count without lookups. */
  tally(labels: Record<L, string>): Tally {
    const key = this.#labelNames.map((name) => labels[name]).join('\u0000');
    let tally = this.#tallies.get(key);
    if (!tally) {
      const own: Record<string, string> = {};
      for (const name of this.#labelNames) own[name] = labels[name];
      tally = new Tally(own, this.#bounds);
      this.#tallies.set(key, tally);
    }
    return tally;
  }

  /** Every tally made so far. */
  tallies(): Tally[] {
    return [...this.#tallies.values()];
  }

  #exposed(
    name: string,
    help: string,
    type: Exposed['type'],
    values: (tally: Tally) => MetricValue[],
  ): Exposed {
    return {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({
        name,
        help,
        type,
        aggregator: 'sum',
        values: [...this.#tallies.values()].flatMap(values),
      }),
      reset: () => this.#tallies.clear(),
    };
  }

  #histogramValues(name: string, tally: Tally): MetricValue[] {
    const values: MetricValue[] = [];
    let cumulative = 0;
    this.#bounds.forEach((le, i) => {
      cumulative += tally.buckets[i]!;
      values.push({ labels: { ...tally.labels, le }, value: cumulative, metricName: `${name}_bucket` });
    });
    values.push(
      { labels: { ...tally.labels, le: '+Inf' }, value: tally.count, metricName: `${name}_bucket` },
      { labels: { ...tally.labels }, value: tally.sum, metricName: `${name}_sum` },
      { labels: { ...tally.labels }, value: tally.count, metricName: `${name}_count` },
    );
    return values;
  }
}
