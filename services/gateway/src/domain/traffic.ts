import type { OpsPoint } from '@bazaar/contracts';

/** One cumulative histogram bucket: observations of at most `le` seconds (`Infinity` for `+Inf`). */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * An instance's served traffic as counted since it started, summed over its routes: requests,
 * those answered 5xx, and the latency histogram's cumulative buckets (ascending `le`).
 */
export interface TrafficTotals {
  requests: number;
  errors: number;
  buckets: Bucket[];
}

/** One metric of prom-client's JSON form (`Registry.getMetricsAsJSON()`), as far as it is read here. */
export interface MetricJson {
  name: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** What one instance served between two scrapes, and over how long. */
export interface InstanceStep {
  delta: TrafficTotals;
  seconds: number;
}

const REQUESTS = 'http_server_requests_total';
const DURATION = 'http_server_request_duration_seconds';

/**
 * Routes whose samples are not the service's traffic: the collector's own scrapes, health checks,
 * and the ops console's event stream (held open for minutes, it would read as latency).
 */
export function isOwnTraffic(route: string | number | undefined): boolean {
  const r = String(route ?? '');
  return r === '/metrics' || r.startsWith('/health/') || r === '/api/ops/watch';
}

/** Sums an instance's request counter and latency histogram over its routes, leaving out its own traffic. */
export function readTotals(metrics: readonly MetricJson[]): TrafficTotals {
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const metric of metrics) {
    if (metric.name !== REQUESTS && metric.name !== DURATION) continue;
    for (const sample of metric.values ?? []) {
      if (isOwnTraffic(sample.labels?.route) || !Number.isFinite(sample.value)) continue;
      if (metric.name === REQUESTS) {
        requests += sample.value;
        if (sample.labels.status === '5xx') errors += sample.value;
      } else if (sample.metricName === `${DURATION}_bucket`) {
        const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
        if (!Number.isNaN(le)) buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
      }
    }
  }
  return { requests, errors, buckets: sortedBuckets(buckets) };
}

/**
 * What an instance served since its previous scrape. Counters only grow while an instance lives;
 * when any went down it restarted, and everything it counts now was counted from 0.
 */
export function totalsDelta(previous: TrafficTotals, current: TrafficTotals): TrafficTotals {
  const before = new Map(previous.buckets.map((b) => [b.le, b.count]));
  const restarted =
    current.requests < previous.requests ||
    current.errors < previous.errors ||
    current.buckets.some((b) => b.count < (before.get(b.le) ?? 0));
  if (restarted) return current;
  return {
    requests: current.requests - previous.requests,
    errors: current.errors - previous.errors,
    buckets: current.buckets.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) })),
  };
}

/**
 * The `q` quantile (0–1) in seconds of the observations in cumulative `buckets`, interpolated
 * linearly inside the bucket it falls in (as Prometheus' `histogram_quantile` does; the first
 * bucket starts at 0, and one in the `+Inf` bucket reads as the highest finite bound). Null
 * without observations.
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lower;
      return lower + ((bucket.le - lower) * (rank - below)) / (bucket.count - below);
    }
    if (bucket.le !== Number.POSITIVE_INFINITY) lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

/**
 * A service's point from what each of its instances served over its own step: the request rates
 * add up; the error share and the latency quantiles are taken over all the requests together.
 */
export function trafficPoint(at: number, steps: readonly InstanceStep[]): OpsPoint {
  let rate = 0;
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const { delta, seconds } of steps) {
    if (seconds > 0) rate += delta.requests / seconds;
    requests += delta.requests;
    errors += delta.errors;
    for (const b of delta.buckets) buckets.set(b.le, (buckets.get(b.le) ?? 0) + b.count);
  }
  const summed = sortedBuckets(buckets);
  return {
    at: new Date(at).toISOString(),
    requestRate: round(rate, 1000),
    errorRate: requests > 0 ? round(Math.min(1, errors / requests), 10_000) : 0,
    p50Ms: milliseconds(bucketQuantile(0.5, summed)),
    p99Ms: milliseconds(bucketQuantile(0.99, summed)),
  };
}

function sortedBuckets(counts: Map<number, number>): Bucket[] {
  return [...counts.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

function milliseconds(seconds: number | null): number | null {
  return seconds === null ? null : round(seconds * 1000, 10);
}

function round(value: number, per: number): number {
  return Math.round(value * per) / per;
}
