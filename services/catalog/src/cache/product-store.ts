import type { Product } from '@bazaar/contracts';

/**
 * What a store answers for a product id: the cached product, or a ticket to present when filling
 * it after reading the database. The ticket lets the store refuse a fill that read the database
 * before a change whose drop has since been applied, so a slow read never caches a stale product.
 */
export type StoreLookup = { product: Product } | { ticket: string };

/** Where product reads are kept between requests: this process, or Redis shared by every instance. */
export interface ProductStore {
  get(id: string): Promise<StoreLookup>;
  /** Keeps `product` unless `id` was dropped (or everything cleared) since `ticket` was handed out. */
  fill(id: string, product: Product, ticket: string): Promise<void>;
  /** Forgets `id`: the product changed. */
  drop(id: string): Promise<void>;
  /** Forgets every product: changes may have gone unheard. */
  clear(): Promise<void>;
  close(): Promise<void>;
}
