import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from './errors.ts';

/** Faults this instance injects into its own request handling (embedded mode, tests, `bazaar chaos`). */
export interface ChaosState {
  /** Delay before a request reaches its handler, as a slow or overloaded instance would. */
  delayMs: number;
  /** Share of requests (0–1) answered with an injected 500. */
  errorRate: number;
}

const ChaosBody = Type.Object(
  {
    delayMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
    errorRate: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  },
  { additionalProperties: false },
);

/**
 * `GET|PUT /internal/chaos`: read or set this instance's injected faults. Present only when
 * `BAZAAR_CHAOS` is on, and only for a caller holding this service's own credential.
 */
export function chaosRoutes(app: FastifyInstance, state: ChaosState, credential: string | undefined): void {
  const authorize = (header: string | undefined) => {
    const given = Buffer.from(header?.replace(/^Bearer /i, '') ?? '');
    const expected = Buffer.from(credential ?? '');
    if (!credential || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('CREDENTIAL_INVALID', "Chaos control needs this service's credential.");
    }
  };
  app.get('/internal/chaos', { schema: { hide: true } }, async (request) => {
    authorize(request.headers.authorization);
    return state;
  });
  app.put('/internal/chaos', { schema: { hide: true, body: ChaosBody } }, async (request) => {
    authorize(request.headers.authorization);
    Object.assign(state, request.body as ChaosState);
    request.log.warn({ chaos: state }, 'chaos settings changed');
    return state;
  });
}
