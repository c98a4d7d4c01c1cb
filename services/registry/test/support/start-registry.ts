import { startService } from '@bazaar/kit';
import { registryService } from '../../src/service.ts';

/** Starts a real registry on an ephemeral port against `databaseUrl`. */
export async function startRegistry(options: { databaseUrl: string; credentials: string }) {
  const running = await startService(registryService(), {
    handleSignals: false,
    env: {
      BAZAAR_PORT: '0',
      BAZAAR_DATABASE_URL: options.databaseUrl,
      BAZAAR_SERVICE_CREDENTIALS: options.credentials,
      BAZAAR_LOG_LEVEL: 'silent',
    },
  });
  return { url: running.url, stop: () => running.stop() };
}
