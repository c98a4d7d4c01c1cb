import { startService } from '@bazaar/kit';
import payments from './service.ts';

await startService(payments);
