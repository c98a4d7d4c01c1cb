import type { AppliedConfig, ServiceList } from '@bazaar/contracts';

/**
 * The registry's latest heartbeat of every instance. The registry's watch stream tells the gateway
 * when the set of instances changes, not every heartbeat, so for the ops console (where a heartbeat
 * growing old is the first sign of a dead instance) the list is read afresh every `everyMs`, with
 * the live-config version each instance last reported.
 */
export class RegistryHeartbeats {
  readonly #urls: string[];
  readonly #everyMs: number;
  readonly #fetch: typeof fetch;
  readonly #latest = new Map<string, string>();
  readonly #configs = new Map<string, AppliedConfig | null>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: { urls: string[]; everyMs?: number; fetch?: typeof fetch }) {
    this.#urls = options.urls;
    this.#everyMs = options.everyMs ?? 2_000;
    this.#fetch = options.fetch ?? fetch;
  }

  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The instance's last heartbeat as the registry last answered, if it did. */
  lastHeartbeat(id: string): string | undefined {
    return this.#latest.get(id);
  }

  /** What the instance last reported of its live config (null: nothing yet), if the registry said. */
  appliedConfig(id: string): AppliedConfig | null | undefined {
    return this.#configs.get(id);
  }

  /** Reads the list from the first registry that answers; keeps the last one when none does. */
  async refresh(): Promise<void> {
    for (const url of this.#urls) {
      try {
        const res = await this.#fetch(`${url}/v1/services`, { signal: AbortSignal.timeout(1_000) });
        if (!res.ok) continue;
        const list = (await res.json()) as ServiceList;
        this.#latest.clear();
        this.#configs.clear();
        for (const service of list.services)
          for (const instance of service.instances) {
            this.#latest.set(instance.id, instance.lastHeartbeatAt);
            this.#configs.set(instance.id, instance.config ?? null);
          }
        return;
      } catch {
        // the next registry, or the last list
      }
    }
  }
}
