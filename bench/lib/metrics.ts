/**
 * Reading an instance's Prometheus `/metrics` in a benchmark: one counter's series by their labels,
 * and the difference between two readings.
 */

/** Series of one metric: `{label="value",...}` text (sorted labels, `{}` for none) → value. */
export type Series = Record<string, number>;

/** Parses `text` (Prometheus exposition format) for the series of metric `name`. */
export function parseSeries(text: string, name: string): Series {
  const series: Series = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort();
    series[`{${labels.join(',')}}`] = Number(m[3]);
  }
  return series;
}

/** The series of metric `name` on the instance at `baseUrl` (`GET <baseUrl>/metrics`). */
export async function readSeries(baseUrl: string, name: string): Promise<Series> {
  const res = await fetch(`${baseUrl}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  return parseSeries(text, name);
}

/** `after − before` per series (series only in `after` count from 0). */
export function seriesDelta(before: Series, after: Series): Series {
  const delta: Series = {};
  for (const [key, value] of Object.entries(after)) delta[key] = value - (before[key] ?? 0);
  return delta;
}

/** The value of the series whose labels include every `label="value"` given (summed when several). */
export function seriesSum(series: Series, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const [key, value] of Object.entries(series)) {
    if (wanted.every((w) => key.includes(w))) sum += value;
  }
  return sum;
}
