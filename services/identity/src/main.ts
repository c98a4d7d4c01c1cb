import { startService } from '@bazaar/kit';
import identity from './service.ts';

await startService(identity);
