import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** A finished span in plain terms, for a consumer of spans in this process. Times in epoch ms. */
export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  service: string;
  instance: string;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  startMs: number;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  attributes: Record<string, string | number | boolean>;
}

const KINDS: Record<SpanKind, FinishedSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};
const STATUSES: Record<SpanStatusCode, FinishedSpan['status']> = {
  [SpanStatusCode.UNSET]: 'unset',
  [SpanStatusCode.OK]: 'ok',
  [SpanStatusCode.ERROR]: 'error',
};

/**
 * Hands batches of ended spans to `sink` in this process, with no encoding and no request: the
 * gateway's own spans go straight into its trace collector this way.
 */
export class LocalSpanExporter implements SpanExporter {
  readonly #sink: (spans: FinishedSpan[]) => void;

  constructor(sink: (spans: FinishedSpan[]) => void) {
    this.#sink = sink;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.#sink(spans.map(finished));
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function finished(span: ReadableSpan): FinishedSpan {
  const context = span.spanContext();
  const resource = span.resource.attributes;
  const attributes: FinishedSpan['attributes'] = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      attributes[key] = value;
    }
  }
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    service: String(resource['service.name'] ?? 'unknown_service'),
    instance: String(resource['service.instance.id'] ?? ''),
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    startMs: span.startTime[0] * 1_000 + span.startTime[1] / 1_000_000,
    durationMs: span.duration[0] * 1_000 + span.duration[1] / 1_000_000,
    status: STATUSES[span.status.code] ?? 'unset',
    attributes,
  };
}
