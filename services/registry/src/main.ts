import { startService } from '@bazaar/kit';
import registry from './service.ts';

await startService(registry);
