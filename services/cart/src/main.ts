import { startService } from '@bazaar/kit';
import cart from './service.ts';

await startService(cart);
