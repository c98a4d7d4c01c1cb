/** The error-code catalog: every problem+json `code` Bazaar answers, with its HTTP status and title. */
export const ErrorCodes = {
  VALIDATION_FAILED: { status: 400, title: 'Invalid request' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  CREDENTIAL_REQUIRED: { status: 401, title: 'Service credential required' },
  CREDENTIAL_INVALID: { status: 401, title: 'Service credential not accepted' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  PRODUCT_NOT_FOUND: { status: 404, title: 'Product not found' },
  SERVICE_NOT_FOUND: { status: 404, title: 'Service not found' },
  INSTANCE_NOT_FOUND: { status: 404, title: 'Instance not registered' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'Conflict' },
  ORDER_NOT_FOUND: { status: 404, title: 'Order not found' },
  RESERVATION_NOT_FOUND: { status: 404, title: 'Reservation not found' },
  PAYMENT_NOT_FOUND: { status: 404, title: 'Payment not found' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, title: 'Idempotency-Key header required' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused with a different body' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: 'A request with this idempotency key is in progress' },
  CART_EMPTY: { status: 409, title: 'The cart is empty' },
  CART_FULL: { status: 409, title: 'The cart is full' },
  PRICE_CHANGED: { status: 409, title: 'Prices changed' },
  CHECKOUT_IN_PROGRESS: { status: 409, title: 'A checkout is already in progress' },
  ALREADY_CANCELLED: { status: 409, title: 'The order is already cancelled' },
  BELOW_RESERVED: { status: 409, title: 'Stock below what is reserved' },
  RESERVATION_EXPIRED: { status: 409, title: 'The reservation expired' },
  INVALID_STATE: { status: 409, title: 'Not possible in the current state' },
  PAYMENT_PROVIDER_ERROR: { status: 503, title: 'The payment provider failed' },
  CHECKOUT_PAUSED: { status: 503, title: 'Checkout is paused' },
  PAYMENTS_UNAVAILABLE: { status: 503, title: 'Payments are unavailable' },
  CONFIG_VERSION_CONFLICT: { status: 409, title: 'The configuration changed meanwhile' },
  CONFIG_VERSION_NOT_FOUND: { status: 404, title: 'No such configuration version' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal error' },
  BAD_GATEWAY: { status: 502, title: 'Bad answer from a dependency' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  DEADLINE_EXCEEDED: { status: 504, title: 'Deadline exceeded' },
} as const satisfies Record<string, { status: number; title: string }>;

/** A stable, upper-case error code from the catalog. */
export type ErrorCode = keyof typeof ErrorCodes;

/** The `type` URI of a problem with the given code (RFC 9457 §3.1.1). */
export function problemType(code: string): string {
  return `urn:bazaar:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}
