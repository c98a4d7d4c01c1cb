/**
 * The bus, as the kit's event runtime sees it: one interface with a member per transport
 * (`pg-boss.ts`, `jetstream.ts`), chosen by configuration in `select.ts`. The relay publishes
 * through it; consumer groups subscribe through it. Delivery is at least once: the inbox of each
 * consumer makes a second delivery harmless, and the event id lets the bus drop a republished copy.
 */
import type { EventEnvelope } from '@bazaar/contracts';

/** What the transport knows of one delivery of an event to a group. */
export interface Delivery {
  /** 1 for the first delivery of the event to this group, then 2, 3, … (retries and redeliveries). */
  attempt: number;
}

/** What a subscriber answers for a delivery: done with it, or deliver it again after a pause. */
export type DeliveryOutcome = 'ack' | { retryInMs: number };

/** A consumer group: every event of `types` is delivered to one instance of the group. */
export interface BusSubscription {
  /** Durable name of the group, `<service>.<consumer>`; instances of a service share it. */
  group: string;
  /** Event types (`catalog.product-changed`) the group reads. */
  types: string[];
  /**
   * Handles one delivery. A throw is taken as `{ retryInMs: 1000 }`; the kit's consumer runner
   * never throws, it answers with its own backoff.
   */
  handle(envelope: EventEnvelope, delivery: Delivery): Promise<DeliveryOutcome>;
}

/** Which member of the family is in use. */
export type TransportKind = 'pg-boss' | 'jetstream';

/** Connection news a transport reports (the runtime turns them into logs and a gauge). */
export interface TransportEvents {
  onConnected?: () => void;
  onDisconnected?: (error: Error) => void;
}

/**
 * A bus. `start` connects in the background and keeps retrying until `stop`, so a bus that is away
 * at start-up never stops the service; `publish` rejects while it is away (the relay keeps the rows
 * and tries again).
 */
export interface BusTransport {
  readonly kind: TransportKind;
  /** Begins connecting; returns at once. */
  start(): void;
  /** Resolves once the transport has connected (at once when it is connected now). */
  connected(): Promise<void>;
  /**
   * Publishes events in the given order. When it resolves, every event is stored by the bus; an
   * event whose id the bus has seen recently is dropped as a duplicate (and counts as published).
   */
  publish(envelopes: EventEnvelope[]): Promise<void>;
  /**
   * Subscribes a group. The returned promise resolves when the group's durable subscription exists
   * on the bus and deliveries have begun; while the bus is away the transport keeps trying.
   */
  subscribe(subscription: BusSubscription): Promise<void>;
  /** Stops deliveries (waiting for the ones in hand), then closes connections. */
  stop(): Promise<void>;
}

/** The pause after a handler threw instead of answering. */
export const THROWN_RETRY_MS = 1_000;

/** Runs `subscription.handle`, turning a throw into a retry. */
export async function deliver(
  subscription: BusSubscription,
  envelope: EventEnvelope,
  delivery: Delivery,
): Promise<DeliveryOutcome> {
  try {
    return await subscription.handle(envelope, delivery);
  } catch {
    return { retryInMs: THROWN_RETRY_MS };
  }
}

/** Resolves when `signal` aborts (to race a wait against a stop). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
