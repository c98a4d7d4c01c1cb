import { startService } from '@bazaar/kit';
import inventory from './service.ts';

await startService(inventory);
