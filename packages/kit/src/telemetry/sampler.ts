import { type Attributes, type Context, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace-base';

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
// Recorded, so a span that ends in error can still be exported (see `ErrorKeepingProcessor`).
const RECORDED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD });

/** Which new traces are sampled: a share of all, and up to a number a second more. */
export interface SamplingPolicy {
  /** Share (0–1) of new traces sampled, decided from the trace id. */
  ratio: number;
  /** New traces a second, per instance, sampled beyond the ratio's: the reservoir (0: none). */
  perSecond: number;
}

/**
 * The decision for traces that start in this instance, as AWS X-Ray makes it: a trace whose id
 * falls within `ratio` is sampled; of the others, the first `perSecond` of each second are too. A
 * quiet system (someone clicking through the shop) keeps every trace; a loaded one keeps a bounded
 * number plus the share, so tracing's cost does not grow with the load. A request that starts a
 * trace off the public API (`/api/*`) — heartbeats, key and revocation polls, watch streams — is
 * never sampled: it is background traffic, kept only when it fails.
 */
export class NewTraceSampling {
  #policy: SamplingPolicy;
  #second = -1;
  #taken = 0;

  constructor(policy: SamplingPolicy) {
    this.#policy = { ...policy };
  }

  get policy(): SamplingPolicy {
    return this.#policy;
  }

  /** Decides by `policy` from now on (the config center's `tracing`). */
  set policy(policy: SamplingPolicy) {
    this.#policy = { ...policy };
  }

  /** Whether a trace that starts with a span of `kind` and `attributes`, as `traceId`, is sampled. */
  samples(kind: SpanKind, attributes: Attributes | undefined, traceId: string): boolean {
    if (kind === SpanKind.SERVER && !isPublicApi(attributes?.['url.path'])) return false;
    const { ratio, perSecond } = this.#policy;
    if (sampledByRatio(traceId, ratio)) return true;
    if (perSecond <= 0) return false;
    const second = Math.floor(performance.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#taken = 0;
    }
    if (this.#taken >= perSecond) return false;
    this.#taken++;
    return true;
  }
}

let decided: boolean | undefined;

/**
 * Runs `make` (which starts exactly one root span, synchronously) with its sampling already
 * decided: the kit decides a new trace once, before it makes an SDK span for it, and a reservoir
 * must not be asked twice.
 */
export function withRootDecision<T>(sampled: boolean, make: () => T): T {
  decided = sampled;
  try {
    return make();
  } finally {
    decided = undefined;
  }
}

/**
 * Bazaar's sampler. The decision is made once, where a trace starts, and travels with it in the
 * `traceparent` sampled flag: a span with a parent follows the parent's flag; a new trace is
 * decided by {@link NewTraceSampling} (or was already, see {@link withRootDecision}). Nothing is
 * dropped unrecorded.
 */
export class TraceSampler implements Sampler {
  readonly #newTraces: NewTraceSampling;

  constructor(policy: SamplingPolicy | NewTraceSampling) {
    this.#newTraces = policy instanceof NewTraceSampling ? policy : new NewTraceSampling(policy);
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
    const sampled = decided ?? this.#newTraces.samples(kind, attributes, traceId);
    return sampled ? SAMPLED : RECORDED;
  }

  toString(): string {
    const { ratio, perSecond } = this.#newTraces.policy;
    return `TraceSampler{ratio=${ratio},perSecond=${perSecond}}`;
  }
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
