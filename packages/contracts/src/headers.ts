/** Header names carried on every hop (CONTRACT "HTTP conventions"). */
export const Headers = {
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  deadline: 'bazaar-deadline-ms',
  serviceToken: 'bazaar-service-token',
  authorization: 'authorization',
  idempotencyKey: 'idempotency-key',
  /**
   * On a 503 from a healthy instance that refuses work on purpose (a dependency it needs is down, a
   * feature is paused): callers pass the answer on, and neither retry it nor count it against the
   * instance's circuit. The gateway does not send it to clients.
   */
  degraded: 'bazaar-degraded',
} as const;
