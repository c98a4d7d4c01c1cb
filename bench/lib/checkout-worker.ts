/**
 * Load generator child for the checkout benchmark: `node checkout-worker.ts '<json>'` runs one
 * closed loop per client (each its own customer) for `seconds`, after an optional unrecorded
 * warm-up. One turn of a loop: empty the cart, put one line (the client's products in turn, so a
 * late "ordered lines" event of an earlier order finds no line to take), check out with a fresh
 * `Idempotency-Key` and `tok_visa`, and, when answered 202, poll the order until it is no longer
 * PENDING. Prints one JSON line: confirmed orders per second, latency percentiles from the POST to
 * CONFIRMED and of each part of a turn, answers that were not the expected ones, and the CPU this
 * process used. No new turn starts after `seconds`; turns under way finish. Started pinned by
 * `taskset` by the benchmark.
 */
import { randomUUID } from 'node:crypto';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Agent, request } from 'undici';

interface Client {
  accessToken: string;
  productIds: string[];
}

interface Input {
  gatewayUrl: string;
  clients: Client[];
  seconds: number;
  warmupSeconds?: number;
  /** How long to wait between polls of a PENDING order, ms. */
  pollMs?: number;
  shippingAddress: Record<string, string>;
}

/** Latency percentiles of one part of a turn, ms. */
export interface Latency {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface CheckoutFigures {
  clients: number;
  seconds: number;
  confirmed: number;
  cancelled: number;
  /** Confirmed orders per second over the whole window (turns finishing after it included). */
  ordersPerSecond: number;
  /** From sending `POST /api/orders` to seeing the order CONFIRMED (its answer, or a poll). */
  toConfirmed: Latency;
  /** Emptying the cart and putting the line. */
  cart: Latency;
  /** `POST /api/orders` until its answer. */
  post: Latency;
  /** A whole turn (cart, checkout, polls). */
  turn: Latency;
  /** Checkouts answered 201 (ended within the wait), 202 (polled). */
  answered201: number;
  answered202: number;
  polls: number;
  /** Unexpected answers, `<step> <status> <code>` → count (e.g. `checkout 409 CART_EMPTY`). */
  unexpected: Record<string, number>;
  /** Transport errors by code. */
  errors: Record<string, number>;
  cpuShare: number;
}

class Unexpected extends Error {}

function latencyOf(h: RecordableHistogram, sumMs: number): Latency {
  const n = h.count;
  const at = (p: number) => (n > 0 ? h.percentile(p) / 1000 : Number.NaN);
  return {
    count: n,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: n > 0 ? h.max / 1000 : Number.NaN,
    meanMs: n > 0 ? sumMs / n : Number.NaN,
  };
}

class Timer {
  readonly h = createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 });
  sumMs = 0;
  record(ms: number): void {
    this.h.record(Math.max(1, Math.round(ms * 1000)));
    this.sumMs += ms;
  }
  figures(): Latency {
    return latencyOf(this.h, this.sumMs);
  }
}

async function run(input: Input, dispatcher: Agent, seconds: number): Promise<CheckoutFigures> {
  const timers = { toConfirmed: new Timer(), cart: new Timer(), post: new Timer(), turn: new Timer() };
  const unexpected: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let confirmed = 0;
  let cancelled = 0;
  let answered201 = 0;
  let answered202 = 0;
  let polls = 0;
  const pollMs = input.pollMs ?? 20;

  const call = async (
    step: string,
    token: string,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    expected: number[],
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await request(`${input.gatewayUrl}${path}`, {
      method,
      dispatcher,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await res.body.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // Not JSON: the status says enough.
    }
    if (!expected.includes(res.statusCode)) {
      const key = `${step} ${res.statusCode} ${typeof json.code === 'string' ? json.code : ''}`.trim();
      unexpected[key] = (unexpected[key] ?? 0) + 1;
      throw new Unexpected(key);
    }
    return { status: res.statusCode, json };
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const loop = async (client: Client, index: number) => {
    let turn = index;
    while (performance.now() < endAt) {
      const productId = client.productIds[turn++ % client.productIds.length]!;
      const t0 = performance.now();
      try {
        await call('empty cart', client.accessToken, 'DELETE', '/api/cart', [204]);
        await call('put line', client.accessToken, 'PUT', `/api/cart/items/${productId}`, [200], {
          quantity: 1,
        });
        const t1 = performance.now();
        timers.cart.record(t1 - t0);
        const answer = await call(
          'checkout',
          client.accessToken,
          'POST',
          '/api/orders',
          [201, 202],
          { paymentToken: 'tok_visa', shippingAddress: input.shippingAddress },
          { 'idempotency-key': randomUUID() },
        );
        timers.post.record(performance.now() - t1);
        if (answer.status === 201) answered201++;
        else answered202++;
        let order = answer.json;
        const until = performance.now() + 60_000;
        while (order.status === 'PENDING') {
          if (performance.now() > until) throw new Unexpected('order still PENDING after 60 s');
          await new Promise((r) => setTimeout(r, pollMs));
          polls++;
          order = (await call('poll', client.accessToken, 'GET', `/api/orders/${order.id}`, [200])).json;
        }
        if (order.status === 'CONFIRMED') {
          confirmed++;
          timers.toConfirmed.record(performance.now() - t1);
        } else {
          cancelled++;
          const key = `order ${String(order.status)} ${String(order.cancelReason ?? '')}`.trim();
          unexpected[key] = (unexpected[key] ?? 0) + 1;
        }
      } catch (err) {
        if (!(err instanceof Unexpected)) {
          const key = (err as { code?: string }).code ?? (err as Error).message;
          errors[key] = (errors[key] ?? 0) + 1;
        }
        // A turn that went wrong is not hammered again at once.
        await new Promise((r) => setTimeout(r, 50));
      }
      timers.turn.record(performance.now() - t0);
    }
  };
  await Promise.all(input.clients.map(loop));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    clients: input.clients.length,
    seconds: elapsedMs / 1000,
    confirmed,
    cancelled,
    ordersPerSecond: confirmed / (elapsedMs / 1000),
    toConfirmed: timers.toConfirmed.figures(),
    cart: timers.cart.figures(),
    post: timers.post.figures(),
    turn: timers.turn.figures(),
    answered201,
    answered202,
    polls,
    unexpected,
    errors,
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(input.gatewayUrl ?? ''))
    throw new Error('only 127.0.0.1 is a target');
  if (!input.clients?.length || !input.seconds || input.clients.some((c) => c.productIds.length === 0)) {
    throw new Error('gatewayUrl, clients (each with products), seconds needed');
  }
  const dispatcher = new Agent({ connections: input.clients.length * 2, keepAliveTimeout: 10_000 });
  if (input.warmupSeconds && input.warmupSeconds > 0) await run(input, dispatcher, input.warmupSeconds);
  const figures = await run(input, dispatcher, input.seconds);
  await dispatcher.close();
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  process.exit(1);
});
