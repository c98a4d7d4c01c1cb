/** Header names carried on every hop (CONTRACT "HTTP conventions"). */
export const Headers = {
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  deadline: 'bazaar-deadline-ms',
  serviceToken: 'bazaar-service-token',
  authorization: 'authorization',
  idempotencyKey: 'idempotency-key',
} as const;
