import type { Readable } from 'node:stream';
import { Headers as H, type Instance, type ResilienceConfig } from '@bazaar/contracts';
import type { CircuitBreakerPolicy } from 'cockatiel';
import {
  BrokenCircuitError,
  CircuitState,
  circuitBreaker,
  handleAll,
  IsolatedCircuitError,
  SamplingBreaker,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { type Balancer, type BalancerName, createBalancer } from '../balancing/balancer.ts';
import { updateEwma } from '../balancing/ewma.ts';
import { currentContext } from '../context.ts';
import type { KitMetrics } from '../metrics.ts';
import type { InstanceSource } from '../registry/watch.ts';
import { endClientSpan, startClientSpan, traceparentOf } from '../telemetry/spans.ts';
import { type Clock, sleep, systemClock } from '../time.ts';
import type { Tally } from '../timed-series.ts';
import { newSpanId, traceparent } from '../trace.ts';
import { fullJitterBackoff } from './backoff.ts';
import { Deadline } from './deadline.ts';
import {
  DeadlineExceededError,
  NO_INSTANCE_REGISTERED,
  ServiceUnavailableError,
  UpstreamError,
} from './errors.ts';
import { createOutlierDetector, type OutlierDetector } from './outlier-detector.ts';
import { createRetryBudget, type RetryBudget } from './retry-budget.ts';

/** One request to a service. */
export interface CallOptions {
  method?: Dispatcher.HttpMethod;
  /** Path with query string, e.g. `/api/products?limit=5`. */
  path: string;
  headers?: Record<string, string | string[] | undefined>;
  /** A JSON value (sent as JSON), a Buffer/string, or a stream (never retried). */
  body?: unknown;
  /** Makes a non-idempotent request retryable; sent as `Idempotency-Key`. */
  idempotencyKey?: string;
  /**
   * The request only reads, though its method is not GET (a lookup that needs a body): it is
   * retried and timed like a read, and no idempotency key is needed.
   */
  readOnly?: boolean;
  /** Defaults to the deadline of the request being handled, else the kit's default. */
  deadline?: Deadline;
  /** Cap of one attempt of a read (QUALITY: 1 s). */
  maxReadAttemptMs?: number;
}

/** An answer from one instance; `body` must be consumed or dumped. */
export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { dump(): Promise<void>; json(): Promise<unknown>; text(): Promise<string> };
  instanceId: string;
  attempts: number;
}

/**
 * Whether the target can take a call now: `available` instances of `instances` have a circuit that
 * lets calls through; when none has, `retryInMs` is the wait until the soonest open circuit lets a
 * probe through (null without any instance).
 */
export interface Availability {
  instances: number;
  available: number;
  retryInMs: number | null;
}

/** The client's view of one instance, for `/api/ops/services`. */
export interface EndpointView {
  id: string;
  address: string;
  circuit: 'closed' | 'open' | 'half-open';
  ejected: boolean;
  inflight: number;
  ewmaMs: number;
}

interface EndpointState {
  id: string;
  origin: string;
  address: string;
  inflight: number;
  ewmaMs: number;
  lastSampleAt: number;
  breaker: CircuitBreakerPolicy;
  /** Stops listening to the breaker's state changes (when it is replaced). */
  unlisten?: () => void;
  openedAt: number;
}

type Failure = 'refused' | 'reset' | 'timeout' | 'status';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([500, 502, 503, 504]);
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
  H.deadline,
  H.traceparent,
  H.requestId,
]);
/** QUALITY.md's thresholds; the config center's `resilience` replaces them at run time. */
const DEFAULT_RESILIENCE: ResilienceConfig = {
  breakerFailureRatio: 0.5,
  breakerMinimumCalls: 20,
  breakerWindowMs: 10_000,
  breakerHalfOpenAfterMs: 5_000,
  maxAttempts: 3,
  retryBudgetRatio: 0.2,
};

/** Raised inside one attempt so the breaker and the retry loop see why it failed. */
class AttemptFailure extends Error {
  readonly kind: Failure;
  readonly result: CallResult | undefined;
  constructor(kind: Failure, result?: CallResult) {
    super(kind);
    this.kind = kind;
    this.result = result;
  }
}

/**
 * The client every service-to-service call goes through: instances from the registry cache → load
 * balancer → per-instance circuit breaker and outlier ejection → attempt timeout bounded by the
 * caller's deadline → retries with full-jitter backoff under a retry budget, for idempotent or keyed
 * requests only. Trace, request id, deadline and the user's token travel on every hop.
 */
export class ServiceClient {
  readonly target: string;
  readonly #source: InstanceSource;
  readonly #dispatcher: Dispatcher;
  readonly #metrics: KitMetrics;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #balancer: Balancer<EndpointState>;
  #budget: RetryBudget;
  readonly #outliers: OutlierDetector;
  readonly #backoff: (attempt: number) => number;
  readonly #defaultDeadlineMs: number;
  readonly #serviceToken: () => string | undefined;
  #resilience: ResilienceConfig;
  readonly #callTallies = new Map<string, Tally>();
  #endpoints = new Map<string, EndpointState>();
  #lastInstances: readonly Instance[] | undefined;

  constructor(options: {
    target: string;
    source: InstanceSource;
    dispatcher: Dispatcher;
    metrics: KitMetrics;
    log: Logger;
    balancer?: BalancerName;
    clock?: Clock;
    defaultDeadlineMs?: number;
    serviceToken?: () => string | undefined;
    /** How long an open circuit waits before a probe (QUALITY: 5 s). */
    halfOpenAfterMs?: number;
    /** Breaker, retry and budget thresholds (default QUALITY.md's); `configure` changes them later. */
    resilience?: Partial<ResilienceConfig>;
  }) {
    this.target = options.target;
    this.#source = options.source;
    this.#dispatcher = options.dispatcher;
    this.#metrics = options.metrics;
    this.#log = options.log.child({ target: options.target });
    this.#clock = options.clock ?? systemClock;
    this.#balancer = createBalancer<EndpointState>(options.balancer ?? 'round-robin', { clock: this.#clock });
    this.#resilience = {
      ...DEFAULT_RESILIENCE,
      ...(options.halfOpenAfterMs === undefined ? {} : { breakerHalfOpenAfterMs: options.halfOpenAfterMs }),
      ...options.resilience,
    };
    this.#budget = createRetryBudget({ clock: this.#clock, ratio: this.#resilience.retryBudgetRatio });
    this.#backoff = fullJitterBackoff({ baseMs: 50, capMs: 1_000 });
    this.#defaultDeadlineMs = options.defaultDeadlineMs ?? 5_000;
    this.#serviceToken = options.serviceToken ?? (() => undefined);
    this.#outliers = createOutlierDetector({
      clock: this.#clock,
      onEject: (id, reason, untilMs) => {
        this.#metrics.clientEjections.inc({ target: this.target, reason });
        const ep = this.#endpoints.get(id);
        this.#log.warn(
          { address: ep?.address, reason, forMs: untilMs - this.#clock.now() },
          'instance ejected',
        );
      },
      onReturn: (id) => this.#log.info({ address: this.#endpoints.get(id)?.address }, 'instance returned'),
    });
  }

  /**
   * Sends a request and returns the first acceptable answer, streaming its body. Within a request
   * or an event, the call is a client span of its trace: every attempt sends that span's
   * `traceparent`.
   */
  async request(options: CallOptions): Promise<CallResult> {
    const trace = currentContext()?.trace;
    const span = trace ? startClientSpan(this.target, options.method ?? 'GET', trace) : undefined;
    if (!span) return this.#send(options, trace && traceparent(trace, newSpanId()));
    try {
      const result = await this.#send(options, traceparentOf(span));
      const address = this.#endpoints.get(result.instanceId)?.address;
      endClientSpan(span, { status: result.status, attempts: result.attempts, address });
      return result;
    } catch (err) {
      endClientSpan(span, { error: err });
      throw err;
    }
  }

  async #send(options: CallOptions, traceparentHeader: string | undefined): Promise<CallResult> {
    const started = this.#clock.now();
    const method = options.method ?? 'GET';
    const context = currentContext();
    const deadline =
      options.deadline ?? context?.deadline ?? Deadline.after(this.#defaultDeadlineMs, this.#clock);
    const readOnly = options.readOnly === true || IDEMPOTENT.has(method);
    const body = encodeBody(options.body);
    const streamed = isStream(body);
    const retryable = (readOnly || options.idempotencyKey !== undefined) && !streamed;
    const maxAttempts = retryable ? this.#resilience.maxAttempts : 1;
    const headers = this.#headers(options, body);
    if (traceparentHeader) headers[H.traceparent] = traceparentHeader;
    this.#budget.recordRequest();

    const tried = new Set<string>();
    let lastFailure: AttemptFailure | undefined;
    let attempts = 0;
    try {
      while (attempts < maxAttempts) {
        if (deadline.expired()) throw new DeadlineExceededError(this.target);
        const endpoint = this.#pick(tried);
        if (!endpoint) break;
        attempts++;
        tried.add(endpoint.id);
        const timeoutMs = deadline.attemptTimeout({
          attemptsLeft: maxAttempts - attempts + 1,
          readOnly,
          maxReadAttemptMs: options.maxReadAttemptMs ?? 1_000,
        });
        try {
          const result = await endpoint.breaker.execute(() =>
            this.#attempt(endpoint, method, options.path, headers, body, timeoutMs, deadline),
          );
          this.#outliers.recordSuccess(endpoint.id);
          result.attempts = attempts;
          this.#record('success', started);
          return result;
        } catch (err) {
          if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
            // Lost the race for a half-open probe: not this call's failure, try another instance.
            attempts--;
            continue;
          }
          const failure = err instanceof AttemptFailure ? err : new AttemptFailure('reset');
          lastFailure = failure;
          this.#noteFailure(endpoint, failure.kind);
          if (attempts >= maxAttempts || !retryable) break;
          if (!this.#budget.tryWithdraw()) {
            this.#metrics.clientRetryBudgetExhausted.inc({ target: this.target });
            break;
          }
          if (failure.result) {
            // Its body is dropped now, so it can no longer be the answer if no retry gets one.
            await failure.result.body.dump().catch(() => undefined);
            lastFailure = new AttemptFailure(failure.kind);
          }
          this.#metrics.clientRetries.inc({ target: this.target, reason: failure.kind });
          const pause = Math.min(this.#backoff(attempts), deadline.remaining());
          if (pause > 0) await sleep(pause);
        }
      }
    } catch (err) {
      this.#record(err instanceof DeadlineExceededError ? 'deadline' : 'error', started);
      throw err;
    }
    return this.#giveUp(lastFailure, attempts, started, deadline);
  }

  /** Sends a request and parses a 2xx JSON answer; any other answer becomes a typed error. */
  async json<T>(options: CallOptions): Promise<T> {
    const res = await this.request(options);
    if (res.status >= 200 && res.status < 300) {
      if (res.status === 204) {
        await res.body.dump();
        return undefined as T;
      }
      return (await res.body.json()) as T;
    }
    let problem: unknown;
    try {
      problem = await res.body.json();
    } catch {
      problem = undefined;
    }
    const looksLikeProblem = typeof problem === 'object' && problem !== null && 'code' in problem;
    throw new UpstreamError(this.target, res.status, looksLikeProblem ? (problem as never) : undefined);
  }

  /**
   * Takes new thresholds (the config center's push). Circuits are rebuilt, closed, when a breaker
   * threshold changed, and the retry budget starts afresh when its ratio did.
   */
  configure(resilience: ResilienceConfig): void {
    const before = this.#resilience;
    this.#resilience = { ...resilience };
    if (before.retryBudgetRatio !== resilience.retryBudgetRatio) {
      this.#budget = createRetryBudget({ clock: this.#clock, ratio: resilience.retryBudgetRatio });
    }
    const breakerChanged =
      before.breakerFailureRatio !== resilience.breakerFailureRatio ||
      before.breakerMinimumCalls !== resilience.breakerMinimumCalls ||
      before.breakerWindowMs !== resilience.breakerWindowMs ||
      before.breakerHalfOpenAfterMs !== resilience.breakerHalfOpenAfterMs;
    if (breakerChanged) for (const endpoint of this.#endpoints.values()) this.#attachBreaker(endpoint);
  }

  /** Whether any instance's circuit lets a call through now, and if none does, for how long not. */
  availability(): Availability {
    this.#sync();
    const now = this.#clock.now();
    let available = 0;
    let retryInMs: number | null = null;
    for (const e of this.#endpoints.values()) {
      const reopensAt = e.openedAt + this.#resilience.breakerHalfOpenAfterMs;
      if (e.breaker.state === CircuitState.Open && now < reopensAt) {
        retryInMs = Math.min(retryInMs ?? Number.POSITIVE_INFINITY, reopensAt - now);
      } else {
        available++;
      }
    }
    return { instances: this.#endpoints.size, available, retryInMs: available > 0 ? 0 : retryInMs };
  }

  /** What this client knows of each instance: circuit, ejection, load. */
  endpoints(): EndpointView[] {
    this.#sync();
    return [...this.#endpoints.values()].map((e) => ({
      id: e.id,
      address: e.address,
      circuit: circuitName(e.breaker.state),
      ejected: this.#outliers.isEjected(e.id),
      inflight: e.inflight,
      ewmaMs: Math.round(e.ewmaMs * 10) / 10,
    }));
  }

  #giveUp(
    failure: AttemptFailure | undefined,
    attempts: number,
    started: number,
    deadline: Deadline,
  ): CallResult {
    if (failure?.kind === 'status' && failure.result) {
      // The last attempt had an answer: pass it on as it is.
      failure.result.attempts = attempts;
      this.#record('error', started);
      return failure.result;
    }
    if (failure?.kind === 'timeout' || deadline.expired()) {
      this.#record('deadline', started);
      throw new DeadlineExceededError(this.target);
    }
    this.#record('unavailable', started);
    if (!failure || failure.kind === 'status') {
      const known = this.#endpoints.size;
      const reason = known === 0 ? NO_INSTANCE_REGISTERED : 'every instance is out of rotation';
      throw new ServiceUnavailableError(this.target, reason, this.#retryAfterSeconds());
    }
    throw new ServiceUnavailableError(this.target, 'no instance answered', 1);
  }

  #record(outcome: string, started: number): void {
    if (!this.#metrics.countRequests) return;
    // Outcomes are a small set: each one's tally is made once and kept.
    let tally = this.#callTallies.get(outcome);
    if (!tally) {
      tally = this.#metrics.clientCalls.tally({ target: this.target, outcome });
      this.#callTallies.set(outcome, tally);
    }
    tally.observe((this.#clock.now() - started) / 1000);
  }

  #retryAfterSeconds(): number {
    const halfOpenAfterMs = this.#resilience.breakerHalfOpenAfterMs;
    let soonest = halfOpenAfterMs;
    for (const e of this.#endpoints.values()) {
      if (e.breaker.state === CircuitState.Open) {
        soonest = Math.min(soonest, Math.max(0, e.openedAt + halfOpenAfterMs - this.#clock.now()));
      }
    }
    return Math.max(1, soonest / 1000);
  }

  #noteFailure(endpoint: EndpointState, kind: Failure): void {
    if (kind === 'refused') this.#outliers.ejectNow(endpoint.id, 'connection-refused');
    else if (kind === 'reset') this.#outliers.ejectNow(endpoint.id, 'connection-reset');
    else this.#outliers.recordFailure(endpoint.id);
  }

  /**
   * Picks an instance that is up, not ejected and whose circuit lets calls through, untried first.
   * An open circuit whose wait is over is offered too: cockatiel half-opens it on that call, and
   * without such a call it would stay open for ever.
   */
  #pick(tried: Set<string>): EndpointState | undefined {
    this.#sync();
    const now = this.#clock.now();
    const usable: EndpointState[] = [];
    for (const e of this.#endpoints.values()) {
      if (this.#outliers.isEjected(e.id)) continue;
      if (e.breaker.state === CircuitState.Open && now < e.openedAt + this.#resilience.breakerHalfOpenAfterMs)
        continue;
      usable.push(e);
    }
    const fresh = usable.filter((e) => !tried.has(e.id));
    return this.#balancer.pick(fresh.length > 0 ? fresh : usable);
  }

  /** Brings the endpoint table in line with the registry cache when the instance list changed. */
  #sync(): void {
    const instances = this.#source.instances(this.target);
    if (instances === this.#lastInstances) return;
    this.#lastInstances = instances;
    const next = new Map<string, EndpointState>();
    for (const i of instances) {
      next.set(i.id, this.#endpoints.get(i.id) ?? this.#newEndpoint(i));
    }
    for (const [id, e] of this.#endpoints) {
      if (!next.has(id))
        this.#metrics.clientCircuitState.remove({ target: this.target, instance: e.address });
    }
    this.#endpoints = next;
    this.#outliers.setPool([...next.keys()]);
  }

  #newEndpoint(instance: Instance): EndpointState {
    const address = `${instance.host}:${instance.port}`;
    const endpoint = {
      id: instance.id,
      origin: `http://${address}`,
      address,
      inflight: 0,
      ewmaMs: 0,
      lastSampleAt: 0,
      openedAt: 0,
    } as EndpointState;
    this.#attachBreaker(endpoint);
    return endpoint;
  }

  /** Gives the endpoint a new, closed circuit breaker with the current thresholds. */
  #attachBreaker(endpoint: EndpointState): void {
    endpoint.unlisten?.();
    const r = this.#resilience;
    const breaker = circuitBreaker(handleAll, {
      halfOpenAfter: r.breakerHalfOpenAfterMs,
      breaker: new SamplingBreaker({
        // cockatiel opens above `threshold`, which must stay below 1 (1 then means "every call").
        threshold: Math.min(r.breakerFailureRatio, 1 - 1e-9),
        duration: r.breakerWindowMs,
        // "At least N calls in the window" as a rate; half a call less, so float rounding never asks for N + 1.
        minimumRps: (r.breakerMinimumCalls - 0.5) / (r.breakerWindowMs / 1000),
      }),
    });
    const address = endpoint.address;
    const labels = { target: this.target, instance: address };
    this.#metrics.clientCircuitState.set(labels, 0);
    const listener = breaker.onStateChange((state) => {
      if (state === CircuitState.Open) endpoint.openedAt = this.#clock.now();
      const name = circuitName(state);
      this.#metrics.clientCircuitState.set(
        labels,
        state === CircuitState.Open ? 1 : state === CircuitState.HalfOpen ? 2 : 0,
      );
      this.#metrics.clientCircuitTransitions.inc({ target: this.target, state: name });
      this.#log.warn({ address, circuit: name }, 'circuit state changed');
    });
    endpoint.breaker = breaker;
    endpoint.unlisten = () => listener.dispose();
    endpoint.openedAt = 0;
  }

  #headers(options: CallOptions, body: unknown): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const lower = name.toLowerCase();
      if (value !== undefined && !HOP_BY_HOP.has(lower)) headers[lower] = value;
    }
    const context = currentContext();
    if (context) {
      headers[H.requestId] = context.requestId;
      if (context.authorization && !headers.authorization) headers.authorization = context.authorization;
    }
    const token = this.#serviceToken();
    if (token) headers[H.serviceToken] = token;
    if (options.idempotencyKey) headers[H.idempotencyKey] = options.idempotencyKey;
    if (
      options.body !== undefined &&
      !Buffer.isBuffer(options.body) &&
      typeof options.body !== 'string' &&
      !isStream(body)
    ) {
      headers['content-type'] ??= 'application/json';
    }
    return headers;
  }

  async #attempt(
    endpoint: EndpointState,
    method: Dispatcher.HttpMethod,
    path: string,
    baseHeaders: Record<string, string | string[]>,
    body: unknown,
    timeoutMs: number,
    deadline: Deadline,
  ): Promise<CallResult> {
    const headers: Record<string, string | string[]> = {
      ...baseHeaders,
      [H.deadline]: String(Math.max(0, Math.floor(timeoutMs))),
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = this.#clock.now();
    endpoint.inflight++;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      endpoint.inflight--;
    };
    try {
      const res = await this.#dispatcher.request({
        origin: endpoint.origin,
        path,
        method,
        headers,
        body: body as Dispatcher.DispatchOptions['body'],
        signal: controller.signal,
        headersTimeout: Math.max(1, Math.ceil(timeoutMs)),
        bodyTimeout: Math.max(1_000, deadline.remaining()),
      });
      clearTimeout(timer);
      const now = this.#clock.now();
      endpoint.ewmaMs = updateEwma(endpoint.ewmaMs, now - started, now - endpoint.lastSampleAt);
      endpoint.lastSampleAt = now;
      res.body.once('close', done);
      res.body.once('error', done);
      res.body.once('end', done);
      const result: CallResult = {
        status: res.statusCode,
        headers: res.headers,
        body: res.body as CallResult['body'],
        instanceId: endpoint.id,
        attempts: 1,
      };
      // A deliberate 503 (the instance is well, something it needs is not) is an answer, not a failure.
      if (RETRY_STATUSES.has(res.statusCode) && res.headers[H.degraded] === undefined) {
        throw new AttemptFailure('status', result);
      }
      return result;
    } catch (err) {
      clearTimeout(timer);
      if (err instanceof AttemptFailure) throw err;
      done();
      const kind = classify(err, controller.signal.aborted);
      this.#log.debug({ address: endpoint.address, kind, err: (err as Error).message }, 'attempt failed');
      throw new AttemptFailure(kind);
    }
  }
}

function classify(err: unknown, aborted: boolean): Failure {
  if (aborted) return 'timeout';
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return 'timeout';
  }
  return 'reset';
}

function circuitName(state: CircuitState): EndpointView['circuit'] {
  if (state === CircuitState.Open || state === CircuitState.Isolated) return 'open';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'closed';
}

function isStream(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function';
}

function encodeBody(body: unknown): Buffer | string | Readable | undefined {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body) || typeof body === 'string' || isStream(body)) return body;
  return JSON.stringify(body);
}
