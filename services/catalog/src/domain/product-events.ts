import type { PriceChangedEvent, Product, ProductChangedEvent } from '@bazaar/contracts';

/** What happened to a product, as `catalog.product-changed` names it. */
export type ProductChange = ProductChangedEvent['change'];

/** The `catalog.product-changed` data announcing `product` as it is after `change`. */
export function productChangedData(
  product: Product,
  hidden: boolean,
  change: ProductChange,
): ProductChangedEvent {
  return {
    productId: product.id,
    merchantId: product.merchantId,
    name: product.name,
    price: product.price,
    currency: product.currency,
    hidden,
    change,
  };
}

/** The `catalog.price-changed` data when a change moved the price, else undefined. */
export function priceChangedData(before: Product, after: Product): PriceChangedEvent | undefined {
  if (before.price === after.price) return undefined;
  return { productId: after.id, oldPrice: before.price, newPrice: after.price, currency: after.currency };
}
