import type { Instance, OpsMetrics, OpsPoint, OpsSeries } from '@bazaar/contracts';
import type { Clock, RegistryView } from '@bazaar/kit';
import type { Logger } from 'pino';
import { request } from 'undici';
import { RingBuffer } from '../domain/ring-buffer.ts';
import {
  type InstanceStep,
  type MetricJson,
  readTotals,
  type TrafficTotals,
  totalsDelta,
  trafficPoint,
} from '../domain/traffic.ts';

/** How long points are kept. */
export const HISTORY_MS = 60 * 60 * 1000;
const SCRAPE_TIMEOUT_MS = 2_000;

/** Reads one instance's metrics (prom-client JSON); rejects when it cannot. */
export type MetricsScraper = (instance: Instance, signal: AbortSignal) => Promise<MetricJson[]>;

/** One instance's answer in a round: its metrics, or none when its scrape failed. */
export interface InstanceScrape {
  instance: Instance;
  metrics?: MetricJson[];
}

/** A finished round of scrapes: when it ended, and every instance it tried. */
export interface ScrapeRound {
  at: number;
  scrapes: InstanceScrape[];
}

/** What the collector is given. */
export interface TrafficCollectorOptions {
  registry: RegistryView;
  /** Time between scrapes; also the step between points. */
  intervalMs: number;
  log: Logger;
  clock: Clock;
  scrape?: MetricsScraper;
  /** Given each round's raw scrapes (the alert evaluator reads them); awaited before the next round. */
  onRound?: (round: ScrapeRound) => Promise<void> | void;
}

interface Baseline {
  totals: TrafficTotals;
  at: number;
}

/**
 * The ops console's traffic series: scrapes every registered instance's `/metrics` each interval,
 * and keeps per service, for an hour, a point of what its instances served since the scrape
 * before. An instance that does not answer in time is left out of that round; a new instance's
 * first scrape only sets where it starts from.
 */
export class TrafficCollector {
  readonly #options: TrafficCollectorOptions;
  readonly #scrape: MetricsScraper;
  readonly #capacity: number;
  readonly #baselines = new Map<string, Baseline>();
  readonly #series = new Map<string, RingBuffer<OpsPoint>>();
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: TrafficCollectorOptions) {
    this.#options = options;
    this.#scrape = options.scrape ?? scrapeOverHttp;
    this.#capacity = Math.ceil(HISTORY_MS / options.intervalMs) + 1;
  }

  /** Scrapes every interval until stopped; one round at a time. */
  start(): void {
    const next = () => {
      if (this.#stopping.signal.aborted) return;
      this.#timer = setTimeout(() => void this.collect().finally(next), this.#options.intervalMs);
      this.#timer.unref();
    };
    next();
  }

  /** Stops scraping and gives up the scrapes in flight. */
  stop(): void {
    this.#stopping.abort();
    clearTimeout(this.#timer);
  }

  /** One round: scrapes every instance that is up or draining, and adds a point per service that answered. */
  async collect(): Promise<void> {
    const services = this.#options.registry.services();
    const listed = new Set<string>();
    const scrapes: InstanceScrape[] = [];
    const rounds = services.map(async (service) => {
      const instances = service.instances.filter((i) => i.status !== 'down');
      for (const i of instances) listed.add(i.id);
      const steps = (await Promise.all(instances.map((i) => this.#step(i, scrapes)))).filter(
        (step): step is InstanceStep => step !== undefined,
      );
      if (steps.length > 0 && !this.#stopping.signal.aborted) {
        this.#bufferOf(service.name).push(trafficPoint(this.#options.clock.now(), steps));
      }
    });
    await Promise.all(rounds);
    for (const id of this.#baselines.keys()) if (!listed.has(id)) this.#baselines.delete(id);
    this.#forgetQuietServices();
    if (this.#options.onRound && !this.#stopping.signal.aborted) {
      try {
        await this.#options.onRound({ at: this.#options.clock.now(), scrapes });
      } catch (err) {
        this.#options.log.warn({ err: (err as Error).message }, 'a scrape round could not be used');
      }
    }
  }

  /** The series over the last `windowSeconds`, of one service or of all. */
  metrics(windowSeconds: number, service?: string): OpsMetrics {
    const since = this.#options.clock.now() - windowSeconds * 1000;
    const names = service === undefined ? [...this.#series.keys()].sort() : [service];
    const items: OpsSeries[] = [];
    for (const name of names) {
      const buffer = this.#series.get(name);
      if (!buffer) continue;
      items.push({ service: name, points: buffer.toArray().filter((p) => Date.parse(p.at) >= since) });
    }
    return { stepSeconds: this.#options.intervalMs / 1000, windowSeconds, items };
  }

  /** What an instance served since its last scrape, or nothing when it did not answer or is new. */
  async #step(instance: Instance, scrapes: InstanceScrape[]): Promise<InstanceStep | undefined> {
    let totals: TrafficTotals;
    try {
      const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(SCRAPE_TIMEOUT_MS)]);
      const metrics = await this.#scrape(instance, signal);
      totals = readTotals(metrics);
      scrapes.push({ instance, metrics });
    } catch (err) {
      scrapes.push({ instance });
      this.#options.log.debug(
        { instance: instance.id, err: (err as Error).message },
        'metrics scrape failed',
      );
      return undefined;
    }
    const at = this.#options.clock.now();
    const previous = this.#baselines.get(instance.id);
    this.#baselines.set(instance.id, { totals, at });
    if (!previous || at <= previous.at) return undefined;
    return { delta: totalsDelta(previous.totals, totals), seconds: (at - previous.at) / 1000 };
  }

  #bufferOf(service: string): RingBuffer<OpsPoint> {
    let buffer = this.#series.get(service);
    if (!buffer) {
      buffer = new RingBuffer(this.#capacity);
      this.#series.set(service, buffer);
    }
    return buffer;
  }

  /** Drops the series of services that have had no point for the whole history. */
  #forgetQuietServices(): void {
    const oldest = this.#options.clock.now() - HISTORY_MS;
    for (const [name, buffer] of this.#series) {
      const last = buffer.last();
      if (!last || Date.parse(last.at) < oldest) this.#series.delete(name);
    }
  }
}

/** Reads `GET /metrics` of an instance, asking for prom-client's JSON. */
function scrapeOverHttp(instance: Instance, signal: AbortSignal): Promise<MetricJson[]> {
  return scrapeMetrics(`http://${instance.host}:${instance.port}`, signal);
}

/** Reads `GET <base>/metrics` as prom-client's JSON; rejects when it cannot. */
export async function scrapeMetrics(base: string, signal: AbortSignal): Promise<MetricJson[]> {
  const res = await request(`${base.replace(/\/$/, '')}/metrics`, {
    method: 'GET',
    headers: { accept: 'application/json' },
    signal,
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`/metrics answered ${res.statusCode}`);
  }
  const body = await res.body.json();
  if (!Array.isArray(body)) throw new Error('/metrics did not answer a JSON array');
  return body as MetricJson[];
}
