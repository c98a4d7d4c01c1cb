import pino, { type Logger } from 'pino';
import { currentContext } from './context.ts';

/**
 * The instance's root logger: JSON lines carrying service and instance, and — for lines written
 * while a request or an event is handled — its request id, trace id and span id (the request's
 * server span, the event's consumer span). Nothing logs headers or bodies, so no
 * redaction is configured (it would make every per-request child logger costlier).
 */
export function createLogger(options: { service: string; instanceId: string; level: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const context = currentContext();
      return context
        ? { reqId: context.requestId, traceId: context.trace.traceId, spanId: context.trace.spanId }
        : {};
    },
    formatters: { level: (label, number) => ({ level: number, levelName: label }) },
  });
}
