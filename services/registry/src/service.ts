import { RegistryTiming } from '@bazaar/contracts';
import { CredentialCheck, defineService, type ServiceDefinition } from '@bazaar/kit';
import { Type } from 'typebox';
import { configRoutes } from './routes/config.ts';
import { instanceRoutes } from './routes/instances.ts';
import { renewAllLeases } from './store/instances.ts';
import { startSweeper } from './sweeper.ts';
import { WatchHub } from './watch-hub.ts';

interface RegistryConfig {
  BAZAAR_SERVICE_CREDENTIALS?: string;
}

/**
 * The registry: instances register with their service credential, heartbeat, and are evicted when
 * their lease runs out; watchers are pushed every change. It is also the config center: each
 * service's live config, versioned, pushed to its instances. State lives in Postgres, so a restarted
 * registry forgets nothing and replicas can share it.
 */
export function registryService(): ServiceDefinition<RegistryConfig> {
  let hub: WatchHub | undefined;
  let sweeper: { stop(): void } | undefined;
  return defineService<RegistryConfig>({
    name: 'registry',
    migrations: new URL('../migrations/', import.meta.url),
    register: false,
    config: Type.Object({ BAZAAR_SERVICE_CREDENTIALS: Type.Optional(Type.String()) }),
    routes: (app, ctx) => {
      const credentials = CredentialCheck.fromJson(ctx.config.BAZAAR_SERVICE_CREDENTIALS);
      hub = new WatchHub({ db: ctx.db, url: ctx.config.BAZAAR_DATABASE_URL ?? '', log: ctx.log });
      instanceRoutes(app, { db: ctx.db, credentials, hub, now: () => ctx.clock.now(), metrics: ctx.metrics });
      configRoutes(app, { db: ctx.db, credentials, now: () => ctx.clock.now() });
      // Watch streams never end by themselves: end them before the server waits for open requests.
      app.addHook('preClose', async () => hub?.stop());
    },
    onStart: async (ctx) => {
      const renewed = await renewAllLeases(ctx.db, ctx.clock.now() + RegistryTiming.leaseMs);
      if (renewed > 0) ctx.log.info({ renewed }, 'stored leases renewed once after start');
      await hub?.start();
      sweeper = startSweeper({
        db: ctx.db,
        log: ctx.log,
        timing: RegistryTiming,
        now: () => ctx.clock.now(),
        metrics: ctx.metrics,
      });
    },
    onStop: () => sweeper?.stop(),
  });
}

export default registryService();
