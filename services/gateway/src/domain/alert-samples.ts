import type { MetricJson } from './traffic.ts';

/** One sample of a scraped series: its name (a histogram's `_bucket`, `_sum`, `_count` apart), labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The labels a scrape target gives every series it reports, as a Prometheus scrape would. */
export interface TargetLabels {
  service: string;
  /** `host:port`, as Prometheus names a target. */
  instance: string;
  instance_id: string;
}

/**
 * The samples of one target's metrics (prom-client's JSON), each with the target's labels where
 * the series has none of its own — the series' own win, as with Prometheus' `honor_labels`, so a
 * circuit gauge keeps the `instance` it is about and the registry's gauges the `service` they count.
 */
export function samplesOf(metrics: readonly MetricJson[], target: TargetLabels): Sample[] {
  const samples: Sample[] = [];
  for (const metric of metrics) {
    for (const value of metric.values ?? []) {
      if (typeof value.value !== 'number') continue;
      const labels: Record<string, string> = { ...target };
      for (const [name, v] of Object.entries(value.labels ?? {})) labels[name] = String(v);
      samples.push({ name: value.metricName ?? metric.name, labels, value: value.value });
    }
  }
  return samples;
}

/** The `up` sample of a target: 1 when its scrape answered, 0 when it did not. */
export function upSample(target: TargetLabels, answered: boolean): Sample {
  return { name: 'up', labels: { ...target }, value: answered ? 1 : 0 };
}
