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
