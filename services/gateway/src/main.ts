import { startService } from '@bazaar/kit';
import gateway from './service.ts';

await startService(gateway);
