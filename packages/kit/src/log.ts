import pino, { type Logger } from 'pino';

/** The instance's root logger: JSON lines carrying service and instance. */
export function createLogger(options: { service: string; instanceId: string; level: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label, number) => ({ level: number, levelName: label }) },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["bazaar-service-token"]', 'password', '*.password'],
      censor: '[redacted]',
    },
  });
}
