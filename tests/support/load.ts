import { Agent, request } from 'undici';

/** What a steady stream of requests saw. */
export interface LoadReport {
  ok: number;
  failed: number;
  /** Status (or error) of each failed request, with when it happened (ms since start). */
  failures: { at: number; status: number | string; body?: string }[];
  /** The latest time any request failed, ms since start (0 when none did). */
  lastFailureAt: number;
}

/**
 * Sends GETs to `url` from `concurrency` loops, one after another in each loop, until stopped;
 * bounded by `maxRequests` and `maxMs` so it always ends by itself.
 */
export function steadyReads(
  url: string,
  { concurrency = 4, pauseMs = 5, maxRequests = 50_000, maxMs = 120_000 } = {},
): { stop(): Promise<LoadReport>; report(): LoadReport } {
  const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 5_000 });
  const started = Date.now();
  const report: LoadReport = { ok: 0, failed: 0, failures: [], lastFailureAt: 0 };
  let running = true;
  let sent = 0;
  const loop = async () => {
    while (running && sent < maxRequests && Date.now() - started < maxMs) {
      sent++;
      try {
        const res = await request(url, { dispatcher, headersTimeout: 15_000, bodyTimeout: 15_000 });
        const body = await res.body.text();
        if (res.statusCode === 200) report.ok++;
        else fail(res.statusCode, body.slice(0, 300));
      } catch (err) {
        fail((err as Error).message);
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const fail = (status: number | string, body?: string) => {
    report.failed++;
    const at = Date.now() - started;
    report.lastFailureAt = at;
    if (report.failures.length < 50) report.failures.push({ at, status, body });
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    report: () => ({ ...report, failures: [...report.failures] }),
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await dispatcher.close();
      return report;
    },
  };
}
