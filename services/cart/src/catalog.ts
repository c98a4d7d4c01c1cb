import type { ProductFacts, ProductFactsList } from '@bazaar/contracts';
import { type ServiceClient, ServiceUnavailableError, UpstreamError } from '@bazaar/kit';

/**
 * What catalog says of `ids` now (`POST /internal/products/lookup`), by id; unknown ids are absent.
 * Catalog failing is 503 for our caller: a cart is never shown or changed without catalog's word.
 */
export async function lookupProducts(
  catalog: ServiceClient,
  ids: string[],
): Promise<Map<string, ProductFacts>> {
  if (ids.length === 0) return new Map();
  try {
    const { items } = await catalog.json<ProductFactsList>({
      method: 'POST',
      path: '/internal/products/lookup',
      body: { ids },
      readOnly: true,
    });
    return new Map(items.map((p) => [p.id, p]));
  } catch (err) {
    if (err instanceof UpstreamError && err.upstreamStatus >= 500) {
      throw new ServiceUnavailableError('catalog', `catalog answered ${err.upstreamStatus}`, 1);
    }
    throw err;
  }
}
