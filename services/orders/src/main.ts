import { startService } from '@bazaar/kit';
import orders from './service.ts';

await startService(orders);
