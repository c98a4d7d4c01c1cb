import { randomBytes } from 'node:crypto';

/** The gateway's OTLP intake (services/gateway/src/routes/ops-traces.ts). */
const INTAKE_PATH = '/internal/otlp/v1/traces';

/** Environment for the embedded system's tracing: for the gateway, and for every other process. */
export interface TraceExportEnv {
  gateway: { BAZAAR_COLLECTOR_TOKEN: string } & Record<string, string>;
  services: Record<string, string>;
}

/**
 * The embedded trace collector runs in the gateway: the gateway keeps its own spans there in
 * process, and every other process's span exporter posts to its intake, with a token made for
 * this start (nothing else knows it) and a short batch delay so that traces show in the console
 * within a second or two. When the caller's environment names its own OTLP endpoint, every process
 * exports there instead (the collector stays empty); when the gateway's port is not known before
 * it starts (port 0), only the gateway's own spans are kept.
 */
export function embeddedTraceExport(options: {
  gatewayPort: number;
  env: NodeJS.ProcessEnv;
  token?: string;
}): TraceExportEnv {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const { env } = options;
  const delay = { OTEL_BSP_SCHEDULE_DELAY: env.OTEL_BSP_SCHEDULE_DELAY ?? '1000' };
  const gateway = { BAZAAR_COLLECTOR_TOKEN: token, ...delay };
  if (
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    options.gatewayPort === 0
  ) {
    return { gateway, services: {} };
  }
  return {
    gateway,
    services: {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${options.gatewayPort}${INTAKE_PATH}`,
      // Values are URL-encoded in this variable (the SDK decodes them): `Bearer%20<token>`.
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=Bearer%20${token}`,
      ...delay,
    },
  };
}
