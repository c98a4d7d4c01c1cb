import type { SeriesData, SeriesSource } from './evaluate.ts';
import { type Labels, type Selector, selects } from './expr.ts';

/** One sample read from a target: a series name, its labels and its value. */
export interface ScrapedSample {
  name: string;
  labels: Labels;
  value: number;
}

/** What one target gave in a round: its samples, or none when its scrape failed. */
export interface TargetScrape {
  /** Names the target across rounds (an instance id). */
  target: string;
  samples?: readonly ScrapedSample[];
}

/** Options of a {@link SeriesStore}. */
export interface SeriesStoreOptions {
  /** How long samples are kept: the longest window read, plus the lookback of instant selectors. */
  retentionMs: number;
  /** Which series to keep (the ones some rule reads); all by default. */
  keep?: (name: string, labels: Labels) => boolean;
}

interface StoredSeries {
  labels: Labels;
  times: number[];
  values: number[];
}

const NAME = '__name__';

/**
 * Scraped samples by series, kept for the retention only. Like Prometheus, it ends a series with
 * a staleness marker (NaN) when its target stops reporting it, fails its scrape or goes away, so
 * instant selectors stop seeing it at once instead of for the whole lookback.
 */
export class SeriesStore implements SeriesSource {
  readonly #options: SeriesStoreOptions;
  readonly #byName = new Map<string, Map<string, StoredSeries>>();
  /** The series each target reported in its last round. */
  readonly #targets = new Map<string, Map<string, StoredSeries>>();

  constructor(options: SeriesStoreOptions) {
    this.#options = options;
  }

  /** Adds one round of scrapes taken at `at` (ms); targets not in it are gone. */
  ingest(at: number, scrapes: readonly TargetScrape[]): void {
    const present = new Set<string>();
    for (const scrape of scrapes) {
      present.add(scrape.target);
      const before = this.#targets.get(scrape.target) ?? new Map<string, StoredSeries>();
      const now = new Map<string, StoredSeries>();
      for (const sample of scrape.samples ?? []) {
        // NaN is the staleness marker here; a series reporting NaN has no value to keep.
        if (typeof sample.value !== 'number' || Number.isNaN(sample.value)) continue;
        if (this.#options.keep && !this.#options.keep(sample.name, sample.labels)) continue;
        const [key, series] = this.#seriesOf(sample.name, sample.labels);
        if (now.has(key)) continue;
        now.set(key, series);
        append(series, at, sample.value);
      }
      for (const [key, series] of before) if (!now.has(key)) markStale(series, at);
      this.#targets.set(scrape.target, now);
    }
    for (const [target, series] of this.#targets) {
      if (present.has(target)) continue;
      for (const s of series.values()) markStale(s, at);
      this.#targets.delete(target);
    }
    this.#trim(at - this.#options.retentionMs);
  }

  /** Every kept series the selector selects. */
  *select(of: Selector): Iterable<SeriesData> {
    for (const series of this.#byName.get(of.metric)?.values() ?? []) {
      if (selects(of, of.metric, series.labels)) yield series;
    }
  }

  /** How many series are kept. */
  get size(): number {
    let n = 0;
    for (const series of this.#byName.values()) n += series.size;
    return n;
  }

  #seriesOf(name: string, labels: Labels): [string, StoredSeries] {
    let named = this.#byName.get(name);
    if (!named) {
      named = new Map();
      this.#byName.set(name, named);
    }
    const full = { ...labels, [NAME]: name };
    const key = seriesKey(full);
    let series = named.get(key);
    if (!series) {
      series = { labels: full, times: [], values: [] };
      named.set(key, series);
    }
    return [key, series];
  }

  /** Drops samples older than `cutoff`, and series left with none. */
  #trim(cutoff: number): void {
    for (const [name, named] of this.#byName) {
      for (const [key, series] of named) {
        let drop = 0;
        while (drop < series.times.length && series.times[drop]! < cutoff) drop++;
        if (drop === series.times.length) {
          named.delete(key);
          continue;
        }
        if (drop > 0) {
          series.times.splice(0, drop);
          series.values.splice(0, drop);
        }
      }
      if (named.size === 0) this.#byName.delete(name);
    }
  }
}

function append(series: StoredSeries, at: number, value: number): void {
  if (series.times.length > 0 && series.times.at(-1)! >= at) return;
  series.times.push(at);
  series.values.push(value);
}

function markStale(series: StoredSeries, at: number): void {
  if (series.values.length > 0 && !Number.isNaN(series.values.at(-1)!)) append(series, at, Number.NaN);
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}
