import { EventEmitter } from 'node:events';
import type { Instance } from '@bazaar/contracts';
import type { InstanceSource } from '../registry/watch.ts';

/** An instance list set by hand, standing in for the registry cache in unit tests of the client. */
export class StaticInstances extends EventEmitter implements InstanceSource {
  #lists = new Map<string, readonly Instance[]>();

  /** Sets the `up` instances of a service, given as `host:port` addresses. */
  set(service: string, addresses: string[]): void {
    const now = new Date().toISOString();
    this.#lists.set(
      service,
      addresses.map((address, i) => {
        const [host, port] = address.split(':');
        return {
          id: `${service}-${i}-${port}`,
          service,
          host: host!,
          port: Number(port),
          version: 'test',
          status: 'up' as const,
          metadata: {},
          registeredAt: now,
          lastHeartbeatAt: now,
        };
      }),
    );
    this.emit('change', service);
  }

  instances(service: string): readonly Instance[] {
    return this.#lists.get(service) ?? [];
  }
}
