import { type Attributes, type Context, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace-base';

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
// Recorded, so a span that ends in error can still be exported (see `ErrorKeepingProcessor`).
const RECORDED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD });

/**
 * Bazaar's sampler. The decision is made once, where a trace starts, and travels with it in the
 * `traceparent` sampled flag: a span with a parent follows the parent's flag; a new trace is
 * sampled with probability `ratio`, decided from its trace id. A request that starts a trace off
 * the public API (`/api/*`) — heartbeats, key and revocation polls, watch streams — is never
 * sampled: it is background traffic, kept only when it fails. Nothing is dropped unrecorded.
 */
export class TraceSampler implements Sampler {
  readonly #ratio: number;

  constructor(ratio: number) {
    this.#ratio = ratio;
  }

  shouldSample(
    context: Context,
    traceId: string,
    _name: string,
    kind: SpanKind,
    attributes: Attributes,
  ): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent && trace.isSpanContextValid(parent)) {
      return (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ? SAMPLED : RECORDED;
    }
    return samplesNewTrace(kind, attributes, traceId, this.#ratio) ? SAMPLED : RECORDED;
  }

  toString(): string {
    return `TraceSampler{ratio=${this.#ratio}}`;
  }
}

/** Whether a trace that starts with a span of `kind` and `attributes`, as `traceId`, is sampled. */
export function samplesNewTrace(
  kind: SpanKind,
  attributes: Attributes | undefined,
  traceId: string,
  ratio: number,
) {
  if (kind === SpanKind.SERVER && !isPublicApi(attributes?.['url.path'])) return false;
  return sampledByRatio(traceId, ratio);
}

function isPublicApi(path: unknown): boolean {
  return typeof path === 'string' && path.startsWith('/api/');
}

/**
 * Whether a new trace is sampled at `ratio`: its id's last 8 hex digits, read as a fraction of
 * 2³², fall below the ratio. Every instance decides the same for one trace id.
 */
export function sampledByRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const low = Number.parseInt(traceId.slice(-8), 16);
  return Number.isFinite(low) && low < ratio * 0x1_0000_0000;
}
