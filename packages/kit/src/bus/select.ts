/**
 * Chooses the bus of an instance from its configuration: NATS JetStream when `BAZAAR_NATS_URL` is
 * set, else pg-boss when `BAZAAR_BUS_DATABASE_URL` is, else none (events stay in the outbox).
 */
import type { Logger } from 'pino';
import type { KitConfig } from '../config.ts';
import { jetStreamTransport } from './jetstream.ts';
import { pgBossTransport } from './pg-boss.ts';
import type { BusTransport, TransportEvents } from './transport.ts';

/** The transport `config` names, or `undefined` when it names none. */
export function selectTransport(
  config: Pick<
    KitConfig,
    | 'BAZAAR_NATS_URL'
    | 'BAZAAR_NATS_STREAM'
    | 'BAZAAR_BUS_DATABASE_URL'
    | 'BAZAAR_EVENT_ACK_TIMEOUT_MS'
    | 'BAZAAR_DB_PREPARED_STATEMENTS'
  >,
  deps: { log: Logger; instanceId: string; events?: TransportEvents },
): BusTransport | undefined {
  const common = { log: deps.log, ackTimeoutMs: config.BAZAAR_EVENT_ACK_TIMEOUT_MS, events: deps.events };
  if (config.BAZAAR_NATS_URL) {
    return jetStreamTransport({
      ...common,
      url: config.BAZAAR_NATS_URL,
      stream: config.BAZAAR_NATS_STREAM,
      name: deps.instanceId,
    });
  }
  if (config.BAZAAR_BUS_DATABASE_URL) {
    return pgBossTransport({
      ...common,
      url: config.BAZAAR_BUS_DATABASE_URL,
      application: deps.instanceId,
      prepare: config.BAZAAR_DB_PREPARED_STATEMENTS,
    });
  }
  return undefined;
}
