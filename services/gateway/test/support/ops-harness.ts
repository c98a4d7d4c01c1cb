/**
 * The gateway for ops tests: a registry view set by hand, a fake identity signing tokens, and
 * clients for routed services over a static instance list.
 */
import { EventEmitter } from 'node:events';
import type { Instance, Service } from '@bazaar/contracts';
import { buildApp, createMetrics, type RegistryView, ServiceClient } from '@bazaar/kit';
import {
  accessClaims,
  type FakeIdentity,
  type FakeKey,
  newKey,
  StaticInstances,
  sign,
  startFakeIdentity,
} from '@bazaar/kit/testing';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Agent } from 'undici';
import gateway from '../../src/service.ts';

/** A registry view whose services a test sets, emitting `change` like the kit's registry watch. */
export class FakeRegistry extends EventEmitter implements RegistryView {
  connected = true;
  #services: Service[] = [];

  services(): Service[] {
    return this.#services;
  }

  /** Replaces the list; tells watchers of every service named. */
  set(services: Service[]): void {
    this.#services = services;
    for (const s of services) this.emit('change', s.name);
  }
}

/** A registered instance, with what a test cares about overridden. */
export function instance(over: Partial<Instance> & { id: string; service: string }): Instance {
  const now = new Date().toISOString();
  return {
    host: '127.0.0.1',
    port: 1,
    version: '0.1.0',
    status: 'up',
    metadata: {},
    registeredAt: now,
    lastHeartbeatAt: now,
    ...over,
  };
}

/** The fake identity and the signing key shared by a test file's gateways. */
export interface Harness {
  identity: FakeIdentity;
  key: FakeKey;
  source: StaticInstances;
  dispatcher: Agent;
  /** Authorization headers of a fresh token with `role`. */
  bearer(role: 'customer' | 'merchant' | 'admin'): Promise<{ authorization: string }>;
  /** A gateway over `registry`, with extra settings; `log` receives its logs. */
  gateway(registry: RegistryView, env?: Record<string, string>, log?: Logger): Promise<FastifyInstance>;
  close(): Promise<void>;
}

/** Starts the fake identity; `close()` stops it. */
export async function startHarness(): Promise<Harness> {
  const key = await newKey();
  const identity = await startFakeIdentity([key]);
  const source = new StaticInstances();
  source.set('identity', [new URL(identity.url).host]);
  const dispatcher = new Agent();
  return {
    identity,
    key,
    source,
    dispatcher,
    bearer: async (role) => ({
      authorization: `Bearer ${await sign(key, accessClaims(Math.floor(Date.now() / 1000), { role }))}`,
    }),
    gateway: async (registry, env = {}, log = pino({ level: 'silent' })) => {
      const metrics = createMetrics('gateway');
      const clients = new Map<string, ServiceClient>();
      const { app } = await buildApp(gateway, {
        env: { BAZAAR_LOG_LEVEL: 'silent', ...env },
        log,
        metrics,
        registry,
        client: (target) => {
          let c = clients.get(target);
          if (!c) {
            c = new ServiceClient({ target, source, dispatcher, metrics, log });
            clients.set(target, c);
          }
          return c;
        },
      });
      return app;
    },
    close: async () => {
      await identity.close();
      await dispatcher.close();
    },
  };
}
