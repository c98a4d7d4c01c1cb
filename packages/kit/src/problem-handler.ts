import { type FieldError, PROBLEM_CONTENT_TYPE } from '@bazaar/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, problem } from './errors.ts';

const CODES_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

const MALFORMED_BODY = new Set([
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
]);

/** Sends `error` as problem+json; the one place where errors become responses. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(error.toProblem(request.url.split('?')[0])));
}

/** Turns whatever a handler or Fastify threw into an AppError with a catalog code. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError & { validationContext?: string };
  if (fe.validation) {
    const errors: FieldError[] = fe.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
      const additional = (v.params as { additionalProperty?: string } | undefined)?.additionalProperty;
      const field = v.instancePath + (missing ? `/${missing}` : '') + (additional ? `/${additional}` : '');
      const message = additional ? 'is not an accepted field' : (v.message ?? 'is invalid');
      return { path: `${fe.validationContext ?? 'body'}${field || '/'}`, message };
    });
    return new AppError('VALIDATION_FAILED', 'The request has invalid fields.', { errors });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than this route accepts.');
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      'This content type is not accepted here; send application/json.',
    );
  }
  if (MALFORMED_BODY.has(fe.code) || (error instanceof SyntaxError && fe.statusCode === 400)) {
    return new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
  }
  const status = fe.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new AppError(CODES_BY_STATUS[status] ?? 'BAD_REQUEST', safeDetail(fe), { status });
  }
  return new AppError('INTERNAL', 'An internal error occurred. It has been logged.', { cause: error });
}

function safeDetail(error: FastifyError): string {
  // Fastify's own 4xx messages are written for clients; anything else stays in the log.
  return error.code?.startsWith('FST_') ? error.message : 'The request could not be processed.';
}

/** Installs the error and not-found handlers: every error answer is problem+json. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error as FastifyError);
    if (appError.status >= 500 && appError.code === 'INTERNAL') {
      request.log.error({ err: error }, 'unhandled error');
    }
    return sendProblem(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new AppError('ROUTE_NOT_FOUND', `There is no route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}

export { problem };
