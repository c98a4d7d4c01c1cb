import type { Instance, OpsAlertList } from '@bazaar/contracts';
import {
  type AlertRule,
  AlertTracker,
  evaluateRule,
  longestWindow,
  SeriesStore,
  selectorsOf,
  selects,
  type TargetScrape,
} from '@bazaar/kit';
import type { Logger } from 'pino';
import { samplesOf, type TargetLabels, upSample } from '../domain/alert-samples.ts';
import type { MetricJson } from '../domain/traffic.ts';
import { type ScrapeRound, scrapeMetrics } from './traffic-collector.ts';

const REGISTRY_SCRAPE_TIMEOUT_MS = 2_000;

/** What the evaluator is given. */
export interface AlertEvaluatorOptions {
  rules: readonly AlertRule[];
  /** Multiplies every window and `for` (`BAZAAR_ALERT_TIME_SCALE`; tests shrink minutes to seconds). */
  timeScale: number;
  /** Time between scrape rounds (samples are kept for the longest window plus two of them). */
  intervalMs: number;
  /** The registry's base URLs: it is not in its own list, so it is scraped here. */
  registryUrls: readonly string[];
  log: Logger;
  /** Reads a registry's metrics (tests answer for it). */
  scrapeRegistry?: (url: string, signal: AbortSignal) => Promise<MetricJson[]>;
}

/**
 * The embedded alert evaluator: the rules Prometheus is given, computed in the gateway from the
 * traffic collector's scrape rounds (plus the registry's own metrics), so the ops console lists
 * pending and firing alerts without a Prometheus server. Every round adds its samples (and `up` of
 * every target) and evaluates every rule; an alert fires once its condition has held for `for`.
 */
export class AlertEvaluator {
  readonly #options: AlertEvaluatorOptions;
  readonly #store: SeriesStore;
  readonly #tracker: AlertTracker;
  readonly #scrapeRegistry: (url: string, signal: AbortSignal) => Promise<MetricJson[]>;
  #evaluatedAt: number | undefined;

  constructor(options: AlertEvaluatorOptions) {
    this.#options = options;
    const selectors = options.rules.flatMap((r) => selectorsOf(r.condition.expr));
    const longest = Math.max(0, ...options.rules.map((r) => longestWindow(r.condition.expr)));
    this.#store = new SeriesStore({
      retentionMs: longest * 1000 * options.timeScale + 2 * options.intervalMs,
      keep: (name, labels) => selectors.some((s) => selects(s, name, labels)),
    });
    this.#tracker = new AlertTracker({ timeScale: options.timeScale });
    this.#scrapeRegistry = options.scrapeRegistry ?? scrapeMetrics;
  }

  /** Takes one round of scrapes, adds the registry's own, and evaluates every rule at the round's time. */
  async observe(round: ScrapeRound): Promise<void> {
    const registries = await Promise.all(this.#options.registryUrls.map((url) => this.#registryScrape(url)));
    const targets: TargetScrape[] = [
      ...round.scrapes.map(({ instance, metrics }) => targetScrape(instance.id, labelsOf(instance), metrics)),
      ...registries,
    ];
    this.#store.ingest(round.at, targets);
    for (const rule of this.#options.rules) {
      const elements = evaluateRule(rule, this.#store, round.at, { timeScale: this.#options.timeScale });
      this.#tracker.record(rule, elements, round.at);
    }
    this.#evaluatedAt = round.at;
  }

  /** The alerts pending or firing (firing first), as `GET /api/ops/alerts` answers. */
  alerts(): OpsAlertList {
    return {
      nextCursor: null,
      items: this.#tracker.active().map((a) => ({
        name: a.name,
        severity: a.severity,
        state: a.state,
        summary: a.summary,
        labels: { ...a.labels },
        // JSON has no infinity; a share over nothing cannot pass a threshold, so this stays theoretical.
        value: Number.isFinite(a.value) ? a.value : Number.MAX_VALUE,
        activeSince: new Date(a.activeSince).toISOString(),
      })),
      rules: this.#options.rules.length,
      evaluatedAt: this.#evaluatedAt === undefined ? null : new Date(this.#evaluatedAt).toISOString(),
    };
  }

  async #registryScrape(url: string): Promise<TargetScrape> {
    const { host } = new URL(url);
    const target: TargetLabels = { service: 'registry', instance: host, instance_id: `registry@${host}` };
    try {
      const metrics = await this.#scrapeRegistry(url, AbortSignal.timeout(REGISTRY_SCRAPE_TIMEOUT_MS));
      return targetScrape(target.instance_id, target, metrics);
    } catch (err) {
      this.#options.log.debug({ url, err: (err as Error).message }, 'registry metrics scrape failed');
      return targetScrape(target.instance_id, target, undefined);
    }
  }
}

function labelsOf(instance: Instance): TargetLabels {
  return {
    service: instance.service,
    instance: `${instance.host}:${instance.port}`,
    instance_id: instance.id,
  };
}

/** A target's samples for the store: its series and `up` (1), or only `up` (0) when it did not answer. */
function targetScrape(id: string, labels: TargetLabels, metrics: MetricJson[] | undefined): TargetScrape {
  const up = upSample(labels, metrics !== undefined);
  return { target: id, samples: metrics ? [...samplesOf(metrics, labels), up] : [up] };
}
