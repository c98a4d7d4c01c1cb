import { createHash, randomUUID } from 'node:crypto';
import type {
  CartContents,
  Checkout,
  Order as OrderView,
  ProductFacts,
  ProductFactsList,
} from '@bazaar/contracts';
import {
  AppError,
  type Clock,
  crashPoint,
  type EventWriter,
  type Queryable,
  type ServiceClient,
  withTransaction,
} from '@bazaar/kit';
import type pg from 'pg';
import type { Logger } from 'pino';
import { canonicalJson, claimLifetime, judgeKey } from './domain/idempotency.ts';
import { Order } from './domain/order.ts';
import { priceCart } from './domain/pricing.ts';
import type { SagaRunner } from './saga/runner.ts';
import { claimKey, dropClaim, type KeyClaim, markAnswered, takeOverKey } from './store/idempotency-keys.ts';
import { publishOrderEvents } from './store/order-events.ts';
import { hasPendingOrder, insertOrder, loadOrder } from './store/orders.ts';

/** What a checkout needs. */
export interface CheckoutDeps {
  db: pg.Pool;
  events: EventWriter;
  client: (service: 'cart' | 'catalog') => ServiceClient;
  runner: SagaRunner;
  clock: Clock;
  log: Logger;
  currency: string;
  /** This instance's id: it holds the new order's saga lease from the insert on. */
  owner: string;
  leaseMs: number;
  /** How long the request waits for the saga to end before answering 202. */
  waitMs: number;
  /** Throws when no new checkout may start now (paused, or payments unreachable): 503 with Retry-After. */
  admit: () => void;
}

/** One `POST /api/orders`. */
export interface CheckoutRequest {
  customerId: string;
  idempotencyKey: string;
  body: Checkout;
  /** What remains of the request's deadline: the key is held that long. */
  deadlineMs: number;
}

/** The answer: 201 when the saga ended in time, 202 while it runs, 200 for a repeated key. */
export interface CheckoutAnswer {
  status: 200 | 201 | 202;
  order: OrderView;
}

const LOOKUP_BATCH = 100;

/**
 * Checkout of the customer's cart: claim the idempotency key, price the cart with the catalog,
 * store the PENDING order with its saga (and the key's link to it) in one statement, then drive
 * the saga here for up to `waitMs`.
 */
export async function checkout(deps: CheckoutDeps, request: CheckoutRequest): Promise<CheckoutAnswer> {
  const hash = createHash('sha256').update(canonicalJson(request.body)).digest('hex');
  const claim: KeyClaim = {
    customerId: request.customerId,
    key: request.idempotencyKey,
    token: randomUUID(),
    lifetimeMs: claimLifetime(request.deadlineMs),
  };
  const replay = await claimOrReplay(deps, claim, hash);
  if (replay) return replay;

  let order: Order;
  try {
    order = await placeOrder(deps, request, claim);
  } catch (err) {
    await dropClaim(deps.db, claim).catch((e: unknown) =>
      deps.log.warn({ err: e }, 'could not free an idempotency key; it frees itself when stale'),
    );
    throw err;
  }
  let now = order;
  if (!order.settled) {
    crashPoint('saga:created');
    const stored = { order, version: 0, paymentToken: request.body.paymentToken, leaseOwner: deps.owner };
    const ended = await deps.runner.driveFor(order.id, deps.waitMs, { leased: true, stored });
    // A saga that ended here is as its run stored it; one still running (or lost) is read again.
    now = ended?.order.settled ? ended.order : ((await loadOrder(deps.db, order.id))?.order ?? order);
  }
  await markAnswered(deps.db, claim).catch((err: unknown) =>
    deps.log.warn({ err }, 'could not mark an idempotency key answered; repeats wait until it is stale'),
  );
  return { status: now.settled ? 201 : 202, order: now.toView() };
}

/** Claims the key, or answers what a repeat gets; undefined when this request now owns the key. */
async function claimOrReplay(
  deps: CheckoutDeps,
  claim: KeyClaim,
  hash: string,
): Promise<CheckoutAnswer | undefined> {
  const result = await claimKey(deps.db, claim, hash);
  if (result.claimed) return undefined;
  const verdict = judgeKey(result.record, hash, deps.clock.now());
  if (verdict === 'reused') {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body.');
  }
  if (verdict === 'abandoned' && (await takeOverKey(deps.db, claim, hash))) return undefined;
  if (verdict === 'replay' && result.record.orderId) {
    const stored = await loadOrder(deps.db, result.record.orderId);
    if (stored) return { status: 200, order: stored.order.toView() };
  }
  throw new AppError(
    'IDEMPOTENCY_KEY_IN_USE',
    'A request with this Idempotency-Key is still being answered.',
    {
      headers: { 'retry-after': '1' },
    },
  );
}

/** Prices the cart and stores the order; throws the checkout's 409s when nothing may be ordered. */
async function placeOrder(deps: CheckoutDeps, request: CheckoutRequest, claim: KeyClaim): Promise<Order> {
  const { customerId, body } = request;
  // Before anything is priced, reserved or stored: a refusal leaves no trace but the freed key.
  deps.admit();
  // Cheap early answer; the partial unique index is what holds under races.
  if (await hasPendingOrder(deps.db, customerId)) throw checkoutInProgress();
  const cart = await deps
    .client('cart')
    .json<CartContents>({ path: `/internal/carts/${encodeURIComponent(customerId)}` });
  if (cart.items.length === 0)
    throw new AppError('CART_EMPTY', 'The cart is empty: there is nothing to order.');
  const facts = await lookUpProducts(deps.client('catalog'), [
    ...new Set(cart.items.map((i) => i.productId)),
  ]);
  const priced = priceCart(cart, facts, deps.currency);
  const now = deps.clock.now();
  const draft = {
    id: randomUUID(),
    customerId,
    lines: priced.lines,
    currency: deps.currency,
    shippingAddress: body.shippingAddress,
  };
  if (priced.lines.length === 0) {
    throw new AppError(
      'CART_EMPTY',
      'No product in the cart is offered any more: there is nothing to order.',
    );
  }
  if (body.expectedTotal !== undefined && body.expectedTotal !== priced.total) {
    throw new AppError(
      'PRICE_CHANGED',
      `The cart now totals ${priced.total} ${deps.currency}, not ${body.expectedTotal}: review it and check out again.`,
    );
  }
  const order = Order.place(draft, now);

  const events = order.pullEvents();
  const place = async (db: Queryable) => {
    const placed = await insertOrder(db, order, {
      paymentToken: body.paymentToken,
      leaseOwner: deps.owner,
      leaseMs: deps.leaseMs,
      claim,
    });
    if (!placed) {
      throw new AppError('IDEMPOTENCY_KEY_IN_USE', 'Another request took over this Idempotency-Key.');
    }
    await publishOrderEvents(deps.events, db, order.id, events);
  };
  try {
    // The order, its lines and the key's link to it are one statement; a transaction only when
    // the new order has events to announce with them.
    if (events.length === 0) await place(deps.db);
    else await withTransaction(deps.db, place);
  } catch (err) {
    if (isPendingConflict(err)) throw checkoutInProgress();
    throw err;
  }
  return order;
}

/** The catalog's facts of `ids`, asked in batches the lookup route accepts. */
async function lookUpProducts(catalog: ServiceClient, ids: string[]): Promise<ProductFacts[]> {
  const facts: ProductFacts[] = [];
  for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
    const list = await catalog.json<ProductFactsList>({
      method: 'POST',
      path: '/internal/products/lookup',
      body: { ids: ids.slice(i, i + LOOKUP_BATCH) },
      readOnly: true,
    });
    facts.push(...list.items);
  }
  return facts;
}

function checkoutInProgress(): AppError {
  return new AppError(
    'CHECKOUT_IN_PROGRESS',
    'Another checkout of yours is still PENDING; wait until it ends.',
  );
}

function isPendingConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === 'orders_one_pending_checkout';
}
