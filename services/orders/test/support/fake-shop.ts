/**
 * Small stand-ins for cart, catalog, inventory and payments on one loopback HTTP server, keeping
 * just enough state to answer the internal APIs of contracts/shop.ts as the real services do:
 * idempotent on the order id, with release and void tombstones. Knobs make them decline, fail,
 * hang or lose an answer. Real cross-service behaviour is tested in tests/ against real processes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AuthorizationRequest,
  OrderLineRef,
  Payment,
  PaymentStatus,
  ProductFacts,
  Reservation,
  ReservationRequest,
  ReservationStatus,
} from '@bazaar/contracts';

/** The simulated provider's test cards that decline. */
const DECLINING: Record<string, 'card_declined' | 'insufficient_funds'> = {
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};

interface StoredReservation {
  status: ReservationStatus;
  items: OrderLineRef[];
}

/** The fake services and what they were asked. */
export class FakeShop {
  readonly carts = new Map<string, OrderLineRef[]>();
  readonly products = new Map<string, ProductFacts>();
  /** Units available per product. */
  readonly stock = new Map<string, number>();
  readonly reservations = new Map<string, StoredReservation>();
  readonly payments = new Map<string, Payment>();
  /** Authorizations the "provider" granted: at most one per order, whatever the retries. */
  authorizations = 0;
  /** Orders whose authorization request is being answered (or held) right now. */
  readonly authorizing = new Set<string>();
  /** Every request, as `METHOD /path`. */
  readonly calls: string[] = [];
  /** Authorizations answer 503 PAYMENT_PROVIDER_ERROR (and authorize nothing). */
  paymentsFailing = false;
  /** The next authorization is granted, then its connection is cut before the answer. */
  loseNextAuthorizationAnswer = false;
  /** Commits find the reservation expired. */
  reservationsExpire = false;
  #gate: Promise<void> | undefined;
  #server: Server | undefined;
  address = '';

  /** Starts the server on a free loopback port. */
  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((err: unknown) =>
        send(res, 500, { code: 'INTERNAL', detail: String(err) }),
      );
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.address = `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  /** Makes authorizations wait until the returned function is called. */
  holdAuthorizations(): () => void {
    let open!: () => void;
    this.#gate = new Promise((resolve) => {
      open = resolve;
    });
    return () => {
      this.#gate = undefined;
      open();
    };
  }

  /** Adds a product with `available` units. */
  addProduct(
    facts: Omit<ProductFacts, 'currency' | 'hidden'> & { hidden?: boolean },
    available: number,
  ): void {
    this.products.set(facts.id, { currency: 'USD', hidden: false, ...facts });
    this.stock.set(facts.id, available);
  }

  /** How many requests went to `path` (method and path, e.g. `POST /internal/payments`). */
  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = await readJson(req);
    this.calls.push(`${req.method} ${path.replace(/[0-9a-f-]{36}/, ':id')}`);
    const cart = /^\/internal\/carts\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && cart) {
      return send(res, 200, { items: this.carts.get(decodeURIComponent(cart[1]!)) ?? [] });
    }
    if (req.method !== 'POST') return send(res, 404, { code: 'ROUTE_NOT_FOUND' });
    if (path === '/internal/products/lookup') {
      const { ids } = body as { ids: string[] };
      return send(res, 200, { items: ids.flatMap((id) => this.products.get(id) ?? []) });
    }
    if (path === '/internal/reservations') return send(res, 200, this.#reserve(body as ReservationRequest));
    const reservationStep = /^\/internal\/reservations\/([^/]+)\/(commit|release|return)$/.exec(path);
    if (reservationStep) {
      const [orderId, step] = [reservationStep[1]!, reservationStep[2] as 'commit' | 'release' | 'return'];
      const [status, answer] = this.#reservationStep(orderId, step);
      return send(res, status, answer);
    }
    if (path === '/internal/payments') {
      const request = body as AuthorizationRequest;
      this.authorizing.add(request.orderId);
      if (this.#gate) await this.#gate;
      this.authorizing.delete(request.orderId);
      if (this.paymentsFailing && !this.payments.has(request.orderId)) {
        return send(res, 503, { code: 'PAYMENT_PROVIDER_ERROR', status: 503, detail: 'provider error' });
      }
      const payment = this.#authorize(request);
      if (this.loseNextAuthorizationAnswer) {
        this.loseNextAuthorizationAnswer = false;
        req.socket.destroy();
        return;
      }
      return send(res, 200, payment);
    }
    const paymentStep = /^\/internal\/payments\/([^/]+)\/(capture|void|refund)$/.exec(path);
    if (paymentStep) {
      const [status, answer] = this.#paymentStep(
        paymentStep[1]!,
        paymentStep[2] as 'capture' | 'void' | 'refund',
      );
      return send(res, status, answer);
    }
    return send(res, 404, { code: 'ROUTE_NOT_FOUND' });
  }

  #reserve(request: ReservationRequest): Reservation {
    const existing = this.reservations.get(request.orderId);
    if (existing) return reservation(request.orderId, existing.status);
    const short = request.items.find((i) => (this.stock.get(i.productId) ?? 0) < i.quantity);
    if (short) {
      this.reservations.set(request.orderId, { status: 'REJECTED', items: request.items });
      return {
        ...reservation(request.orderId, 'REJECTED'),
        reason: 'OUT_OF_STOCK',
        productId: short.productId,
      };
    }
    for (const i of request.items) this.stock.set(i.productId, this.stock.get(i.productId)! - i.quantity);
    this.reservations.set(request.orderId, { status: 'RESERVED', items: request.items });
    return reservation(request.orderId, 'RESERVED');
  }

  #reservationStep(orderId: string, step: 'commit' | 'release' | 'return'): [number, unknown] {
    const r = this.reservations.get(orderId);
    const restock = (held: StoredReservation) => {
      for (const i of held.items)
        this.stock.set(i.productId, (this.stock.get(i.productId) ?? 0) + i.quantity);
    };
    const move = (
      from: ReservationStatus,
      to: ReservationStatus,
      settled: ReservationStatus[],
    ): [number, unknown] => {
      if (!r) return [404, { code: 'RESERVATION_NOT_FOUND', status: 404, detail: 'none' }];
      if (r.status === from) {
        if (to !== 'COMMITTED') restock(r);
        r.status = to;
      } else if (!settled.includes(r.status)) {
        const code = r.status === 'EXPIRED' ? 'RESERVATION_EXPIRED' : 'INVALID_STATE';
        return [409, { code, status: 409, detail: r.status }];
      }
      return [200, reservation(orderId, r.status)];
    };
    if (step === 'commit') {
      if (r?.status === 'RESERVED' && this.reservationsExpire) {
        restock(r);
        r.status = 'EXPIRED';
      }
      return move('RESERVED', 'COMMITTED', ['COMMITTED']);
    }
    if (step === 'release') {
      if (!r) {
        this.reservations.set(orderId, { status: 'RELEASED', items: [] });
        return [200, reservation(orderId, 'RELEASED')];
      }
      return move('RESERVED', 'RELEASED', ['RELEASED', 'EXPIRED', 'REJECTED']);
    }
    return move('COMMITTED', 'RETURNED', ['RETURNED']);
  }

  #authorize(request: AuthorizationRequest): Payment {
    const existing = this.payments.get(request.orderId);
    if (existing) return existing;
    const declineCode = DECLINING[request.paymentToken];
    if (!declineCode) this.authorizations++;
    const payment = {
      id: `pay-${request.orderId}`,
      orderId: request.orderId,
      status: declineCode ? 'DECLINED' : 'AUTHORIZED',
      amount: request.amount,
      currency: request.currency,
      ...(declineCode ? { declineCode } : {}),
    } as Payment;
    this.payments.set(request.orderId, payment);
    return payment;
  }

  #paymentStep(orderId: string, step: 'capture' | 'void' | 'refund'): [number, unknown] {
    const p = this.payments.get(orderId);
    if (!p) {
      if (step !== 'void') return [404, { code: 'PAYMENT_NOT_FOUND', status: 404, detail: 'none' }];
      // A void before any authorization: a tombstone that a late authorization cannot change.
      const tombstone = {
        id: `pay-${orderId}`,
        orderId,
        status: 'VOIDED',
        amount: 0,
        currency: 'USD',
      } as Payment;
      this.payments.set(orderId, tombstone);
      return [200, tombstone];
    }
    const rules: Record<typeof step, [PaymentStatus, PaymentStatus, PaymentStatus[]]> = {
      capture: ['AUTHORIZED', 'CAPTURED', ['CAPTURED', 'REFUNDED']],
      void: ['AUTHORIZED', 'VOIDED', ['VOIDED', 'DECLINED']],
      refund: ['CAPTURED', 'REFUNDED', ['REFUNDED']],
    };
    const [from, to, settled] = rules[step];
    if (p.status === from) p.status = to;
    else if (!settled.includes(p.status))
      return [409, { code: 'INVALID_STATE', status: 409, detail: p.status }];
    return [200, p];
  }
}

function reservation(orderId: string, status: ReservationStatus): Reservation {
  return {
    orderId,
    status,
    expiresAt: status === 'RESERVED' ? new Date(Date.now() + 600_000).toISOString() : null,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return raw ? JSON.parse(raw) : undefined;
}
