import { createServiceDatabase, type ServiceTestDatabase } from '@bazaar/kit/testing';

/** A throwaway database with the kit's tables and inventory's migrations. */
export function inventoryDatabase(): Promise<ServiceTestDatabase> {
  return createServiceDatabase('inventory_test', new URL('../../migrations/', import.meta.url));
}
