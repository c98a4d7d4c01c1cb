/**
 * How an instance traces, read from the standard OpenTelemetry environment variables plus
 * `BAZAAR_TRACING`. Spans are recorded only when there is somewhere to send them: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`), and
 * neither `BAZAAR_TRACING=off` nor `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none` —
 * or, for a process that keeps its spans itself (`local`), no endpoint at all. Propagation of
 * `traceparent` does not depend on any of this.
 */

import { TracingConfig } from '@bazaar/contracts';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import Value from 'typebox/value';
import type { SamplingPolicy } from './sampler.ts';

/**
 * Bazaar's sampling when no sampler is named, the config center's defaults: 1 % of new traces,
 * plus up to 10 more a second per instance — every trace of a quiet system, a bounded number of a
 * loaded one.
 */
export const DEFAULT_SAMPLING: SamplingPolicy = (() => {
  const defaults = Value.Default(TracingConfig, {}) as TracingConfig;
  return Object.freeze({ ratio: defaults.sampleRatio, perSecond: defaults.samplesPerSecond });
})();

/** The tracing settings of an instance. */
export type TracingSettings =
  | { enabled: false; reason: string; problems: string[] }
  | {
      enabled: true;
      /** The OTLP/HTTP traces URL spans are posted to (JSON); none for a `local` reader. */
      url: string | undefined;
      headers: Record<string, string>;
      /** Which traces started here are sampled; children follow their parent. */
      sampling: SamplingPolicy;
      batch: BatchSettings;
      /** Values that were ignored, for a warning at start. */
      problems: string[];
    };

/** The batch span processor's `OTEL_BSP_*` settings that were given. */
export interface BatchSettings {
  scheduledDelayMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  exportTimeoutMillis?: number;
}

const OFF = new Set(['off', 'false', '0', 'no']);
const BATCH_VARIABLES = [
  ['scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY'],
  ['maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE'],
  ['maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
  ['exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT'],
] as const;

/** Reads the tracing settings from `env`; `local`: spans are kept in this process, no endpoint needed. */
export function readTracingSettings(
  env: NodeJS.ProcessEnv,
  options: { local?: boolean } = {},
): TracingSettings {
  const problems: string[] = [];
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  if (OFF.has(value('BAZAAR_TRACING')?.toLowerCase() ?? '')) {
    return { enabled: false, reason: 'BAZAAR_TRACING is off', problems };
  }
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') {
    return { enabled: false, reason: 'OTEL_SDK_DISABLED is true', problems };
  }
  if (value('OTEL_TRACES_EXPORTER')?.toLowerCase() === 'none') {
    return { enabled: false, reason: 'OTEL_TRACES_EXPORTER is none', problems };
  }
  const url = tracesUrl(value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'), value('OTEL_EXPORTER_OTLP_ENDPOINT'));
  if (url === undefined && !options.local)
    return { enabled: false, reason: 'no OTLP endpoint is set', problems };
  if (url === null) {
    problems.push('the OTLP endpoint is not an http(s) URL');
    return { enabled: false, reason: 'the OTLP endpoint is not a URL', problems };
  }
  const headers = {
    ...parseKeyPairsIntoRecord(value('OTEL_EXPORTER_OTLP_HEADERS')),
    ...parseKeyPairsIntoRecord(value('OTEL_EXPORTER_OTLP_TRACES_HEADERS')),
  };
  const batch: BatchSettings = {};
  for (const [key, name] of BATCH_VARIABLES) {
    const raw = value(name);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (Number.isInteger(n) && n > 0) batch[key] = n;
    else problems.push(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  }
  return { enabled: true, url, headers, sampling: samplingPolicy(env, problems), batch, problems };
}

/**
 * The traces URL: the signal's own endpoint as given, else the general one with `/v1/traces`
 * appended; `undefined` when neither is set, `null` when the one set is not an http(s) URL.
 */
function tracesUrl(specific: string | undefined, general: string | undefined): string | null | undefined {
  const raw = specific ?? (general === undefined ? undefined : `${general.replace(/\/+$/, '')}/v1/traces`);
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

/**
 * Which new traces are sampled. With no `OTEL_TRACES_SAMPLER`, Bazaar's default: the share
 * `OTEL_TRACES_SAMPLER_ARG` (default 0.01) plus up to `BAZAAR_TRACES_PER_SECOND` (default 10)
 * more a second. A named sampler means what OpenTelemetry says: `always_on` every trace,
 * `always_off` none, `traceidratio` the share `OTEL_TRACES_SAMPLER_ARG` (default 1) — with no
 * reservoir unless `BAZAAR_TRACES_PER_SECOND` is set. Whatever the sampler, a child follows its
 * parent's sampled flag (Bazaar's sampler is always parent-based), and error spans are kept.
 */
function samplingPolicy(env: NodeJS.ProcessEnv, problems: string[]): SamplingPolicy {
  const named = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || undefined;
  const perSecond = reservoir(env, named ? 0 : DEFAULT_SAMPLING.perSecond, problems);
  if (named === 'always_on' || named === 'parentbased_always_on') return { ratio: 1, perSecond };
  if (named === 'always_off' || named === 'parentbased_always_off') return { ratio: 0, perSecond };
  if (named !== undefined && named !== 'traceidratio' && named !== 'parentbased_traceidratio') {
    problems.push(`OTEL_TRACES_SAMPLER ${JSON.stringify(named)} is not supported; sampling every trace`);
    return { ratio: 1, perSecond };
  }
  const fallback = named ? 1 : DEFAULT_SAMPLING.ratio;
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (!raw) return { ratio: fallback, perSecond };
  const ratio = Number(raw);
  if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return { ratio, perSecond };
  problems.push(
    `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got ${JSON.stringify(raw)}); using ${fallback}`,
  );
  return { ratio: fallback, perSecond };
}

/** `BAZAAR_TRACES_PER_SECOND`: a whole number of traces, 0 or more. */
function reservoir(env: NodeJS.ProcessEnv, fallback: number, problems: string[]): number {
  const raw = env.BAZAAR_TRACES_PER_SECOND?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 0) return n;
  problems.push(
    `BAZAAR_TRACES_PER_SECOND must be a whole number (got ${JSON.stringify(raw)}); using ${fallback}`,
  );
  return fallback;
}
