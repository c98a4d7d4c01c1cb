/**
 * How an instance traces, read from the standard OpenTelemetry environment variables plus
 * `BAZAAR_TRACING`. Spans are recorded only when there is somewhere to send them: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`), and
 * neither `BAZAAR_TRACING=off` nor `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none` —
 * or, for a process that keeps its spans itself (`local`), no endpoint at all. Propagation of
 * `traceparent` does not depend on any of this.
 */
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';

/** The tracing settings of an instance. */
export type TracingSettings =
  | { enabled: false; reason: string; problems: string[] }
  | {
      enabled: true;
      /** The OTLP/HTTP traces URL spans are posted to (JSON); none for a `local` reader. */
      url: string | undefined;
      headers: Record<string, string>;
      /** Share (0–1) of the traces started here that are sampled; children follow their parent. */
      ratio: number;
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
  return { enabled: true, url, headers, ratio: samplingRatio(env, problems), batch, problems };
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
 * The sampling ratio: `OTEL_TRACES_SAMPLER_ARG` (default 1) for the ratio samplers or none named,
 * 1 for `always_on`, 0 for `always_off`. Whatever the sampler is called, a child follows its
 * parent's sampled flag (Bazaar's sampler is always parent-based).
 */
function samplingRatio(env: NodeJS.ProcessEnv, problems: string[]): number {
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_traceidratio';
  if (sampler === 'always_on' || sampler === 'parentbased_always_on') return 1;
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if (sampler !== 'traceidratio' && sampler !== 'parentbased_traceidratio') {
    problems.push(`OTEL_TRACES_SAMPLER ${JSON.stringify(sampler)} is not supported; sampling every trace`);
    return 1;
  }
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (!raw) return 1;
  const ratio = Number(raw);
  if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
  problems.push(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got ${JSON.stringify(raw)})`);
  return 1;
}
