/** Checkout's live switches: the config center's `features` of orders. */
export interface CheckoutFeatures {
  /** Off: new checkouts are refused (maintenance); orders under way go on. */
  checkout: boolean;
  /** Refuse a checkout at once while no payments instance could take the authorization. */
  failFastWhenPaymentsDown: boolean;
}

/** The switches before any version is set: checkout open, failing fast. */
export const DEFAULT_CHECKOUT_FEATURES: CheckoutFeatures = { checkout: true, failFastWhenPaymentsDown: true };

/** What orders' client knows of payments now (the kit client's `availability()`). */
export interface PaymentsOutlook {
  instances: number;
  available: number;
  /** Until the soonest open circuit lets a probe through; null without any instance. */
  retryInMs: number | null;
}

/** Why a new checkout is refused before anything is ordered, and when to try again. */
export interface CheckoutRefusal {
  code: 'CHECKOUT_PAUSED' | 'PAYMENTS_UNAVAILABLE';
  detail: string;
  retryAfterSeconds: number;
}

/** A paused checkout is maintenance: shoppers are asked to come back in a minute, not to hammer it. */
const PAUSED_RETRY_SECONDS = 60;
/** Without any payments instance, the wait for one to register. */
const NO_INSTANCE_RETRY_SECONDS = 5;

/**
 * Whether a new checkout may start: refused while checkout is paused, and — when failing fast — while
 * every payments instance's circuit is open or none is up, since the order would only wait for a
 * payment that cannot come. `payments` is asked only when it matters.
 */
export function refuseCheckout(
  features: CheckoutFeatures,
  payments: () => PaymentsOutlook,
): CheckoutRefusal | undefined {
  if (!features.checkout) {
    return {
      code: 'CHECKOUT_PAUSED',
      detail: 'Checkout is paused for maintenance; your cart is kept. Try again later.',
      retryAfterSeconds: PAUSED_RETRY_SECONDS,
    };
  }
  if (!features.failFastWhenPaymentsDown) return undefined;
  const outlook = payments();
  if (outlook.available > 0) return undefined;
  return {
    code: 'PAYMENTS_UNAVAILABLE',
    detail:
      'Payments cannot be taken right now; nothing was ordered and your cart is kept. Try again shortly.',
    retryAfterSeconds:
      outlook.retryInMs === null
        ? NO_INSTANCE_RETRY_SECONDS
        : Math.max(1, Math.ceil(outlook.retryInMs / 1000)),
  };
}
