import { startService } from '@bazaar/kit';
import catalog from './service.ts';

await startService(catalog);
