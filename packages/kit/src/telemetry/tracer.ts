/**
 * The instance's tracer: an OpenTelemetry SDK provider (no global registration, no context
 * manager, no auto-instrumentation) whose spans the kit starts with explicit parents, from its own
 * `RequestContext`. One per process, installed by `startService` when tracing is on; while none is
 * installed, no span is created anywhere and the kit only propagates `traceparent`.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { sleep } from '../time.ts';
import { ErrorKeepingProcessor } from './error-keeping-processor.ts';
import { kitIds } from './ids.ts';
import { type FinishedSpan, LocalSpanExporter } from './local-exporter.ts';
import { NewTraceSampling, type SamplingPolicy, TraceSampler } from './sampler.ts';
import { type BatchSettings, readTracingSettings } from './settings.ts';

/** An installed tracer: flush what is batched, or flush and stop. */
export interface Tracing {
  flush(): Promise<void>;
  /** Exports what is left (bounded by `timeoutMs`, default 2 s) and uninstalls the tracer. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** What `installTracing` needs. */
export interface TracingOptions {
  service: string;
  instanceId: string;
  version?: string;
  exporter: SpanExporter;
  /** Which new traces are sampled (default every one). */
  sampling?: SamplingPolicy;
  batch?: BatchSettings;
}

const EVERY_TRACE: SamplingPolicy = Object.freeze({ ratio: 1, perSecond: 0 });

let installed: Tracer | undefined;
/** The config center's `tracing.enabled`, which outlives a reinstall. */
let enabled = true;
/** `installed` while enabled: what every span start reads. */
let active: Tracer | undefined;
let activeSampling = new NewTraceSampling(EVERY_TRACE);

/** The installed tracer, or `undefined` when spans are not recorded. */
export function activeTracer(): Tracer | undefined {
  return active;
}

/**
 * Records spans (when a tracer is installed) or none at all from now on, also in a tracer
 * installed later. Spans already started end as they were begun.
 */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
  active = on ? installed : undefined;
}

/** The policy set at run time (the config center's `tracing`), which outlives a reinstall. */
let livePolicy: SamplingPolicy | undefined;

/** How the installed tracer decides the traces that start in this process. */
export function newTraceSampling(): NewTraceSampling {
  return activeSampling;
}

/** Samples new traces by `policy` from now on, also in a tracer installed later. */
export function setSamplingPolicy(policy: SamplingPolicy): void {
  livePolicy = { ...policy };
  activeSampling.policy = policy;
}

/**
 * Installs a tracer that batches ended spans to `exporter` (sampled ones, and unsampled ones that
 * ended in error). Tests install one with an in-memory exporter.
 */
export function installTracing(options: TracingOptions): Tracing {
  const sampling = new NewTraceSampling(livePolicy ?? options.sampling ?? EVERY_TRACE);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.service,
      'service.instance.id': options.instanceId,
      'service.namespace': 'bazaar',
      ...(options.version ? { 'service.version': options.version } : {}),
    }),
    sampler: new TraceSampler(sampling),
    idGenerator: kitIds,
    spanProcessors: [new ErrorKeepingProcessor(new BatchSpanProcessor(options.exporter, options.batch))],
  });
  const tracer = provider.getTracer('@bazaar/kit');
  installed = tracer;
  active = enabled ? tracer : undefined;
  activeSampling = sampling;
  let stopped: Promise<void> | undefined;
  return {
    flush: () => provider.forceFlush(),
    shutdown(timeoutMs = 2_000) {
      stopped ??= (async () => {
        if (installed === tracer) {
          installed = undefined;
          active = undefined;
        }
        const bound = new AbortController();
        await Promise.race([
          provider.shutdown().catch(() => undefined),
          sleep(timeoutMs, bound.signal).catch(() => undefined),
        ]);
        bound.abort();
      })();
      return stopped;
    },
  };
}

/**
 * Installs the tracer the environment asks for (see `settings.ts`): spans exported over OTLP/HTTP
 * (JSON), or — given a `sink` — handed to it in this process; or nothing, and then spans are not
 * recorded at all.
 */
export function startTracing(options: {
  service: string;
  instanceId: string;
  version?: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Keeps the spans in this process instead (the gateway's collector); no endpoint is needed. */
  sink?: (spans: FinishedSpan[]) => void;
}): Tracing | undefined {
  const { sink } = options;
  const settings = readTracingSettings(options.env, { local: sink !== undefined });
  for (const problem of settings.problems) options.log.warn(`tracing: ${problem}`);
  if (!settings.enabled) {
    options.log.debug({ reason: settings.reason }, 'spans are not recorded');
    return undefined;
  }
  let exporter: SpanExporter;
  if (sink) {
    exporter = new LocalSpanExporter(sink);
    options.log.info({ sampling: settings.sampling }, 'spans are kept in this process');
  } else {
    const url = settings.url!;
    exporter = new OTLPTraceExporter({
      url,
      headers: settings.headers,
      ...(settings.batch.exportTimeoutMillis ? { timeoutMillis: settings.batch.exportTimeoutMillis } : {}),
    });
    options.log.info(
      { endpoint: new URL(url).origin, sampling: settings.sampling },
      'spans are exported over OTLP',
    );
  }
  return installTracing({
    service: options.service,
    instanceId: options.instanceId,
    version: options.version,
    exporter,
    sampling: settings.sampling,
    batch: settings.batch,
  });
}
