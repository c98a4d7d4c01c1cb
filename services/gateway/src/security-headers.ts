import type { FastifyInstance } from 'fastify';

const API_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Security headers on every answer; HTML pages get a content security policy that lets them run.
 * Answers to authenticated requests are never stored by a cache; with TLS on, browsers are told to
 * come back over HTTPS only (HSTS).
 */
export function securityHeaders(app: FastifyInstance, options: { tls?: boolean } = {}): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(API_HEADERS);
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html'))
      reply.header('content-security-policy', PAGE_CSP);
    if (request.headers.authorization !== undefined || request.user)
      reply.header('cache-control', 'no-store');
    if (options.tls) reply.header('strict-transport-security', HSTS);
    reply.removeHeader('x-powered-by');
    done(null, payload);
  });
}
