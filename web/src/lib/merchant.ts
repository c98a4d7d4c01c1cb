/**
 * What the merchant console asks of the API: the caller's products, one product with its stock and
 * visibility, categories, orders holding the caller's products, and the writes that change them.
 * Prices are typed as decimals in major units and travel as integer minor units; the conversions
 * here are exact (string arithmetic, never floating point).
 */
import type {
  Category,
  NewProduct,
  Order,
  OrderPage,
  Product,
  ProductChanges,
  ProductPage,
  Stock,
} from '@bazaar/contracts';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { ApiError, api } from './api.ts';

/** Query keys of the console, so writes can refresh exactly what they changed. */
export const merchantKeys = {
  all: ['merchant'] as const,
  allProducts: ['merchant', 'products'] as const,
  products: (merchantId: string) => ['merchant', 'products', merchantId] as const,
  product: (id: string) => ['merchant', 'product', id] as const,
  stock: (id: string) => ['merchant', 'stock', id] as const,
  visibility: (id: string) => ['merchant', 'visibility', id] as const,
  orders: ['merchant', 'orders'] as const,
  storeCurrency: ['merchant', 'store-currency'] as const,
  categories: ['merchant', 'categories'] as const,
};

const PAGE_SIZE = 20;

function withCursor(path: string, cursor: string | null): string {
  return cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path;
}

/** The products of `merchantId` that shoppers can browse, newest first, a page at a time. */
export function useMyProducts(merchantId: string) {
  return useInfiniteQuery({
    queryKey: merchantKeys.products(merchantId),
    queryFn: ({ pageParam, signal }) =>
      api<ProductPage>(
        withCursor(
          `/api/products?merchantId=${encodeURIComponent(merchantId)}&limit=${PAGE_SIZE}`,
          pageParam,
        ),
        { signal },
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}

/** Orders that hold the caller's products, showing only the caller's lines, newest first. */
export function useMerchantOrders() {
  return useInfiniteQuery({
    queryKey: merchantKeys.orders,
    queryFn: ({ pageParam, signal }) =>
      api<OrderPage>(withCursor(`/api/merchant/orders?limit=${PAGE_SIZE}`, pageParam), { signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}

/** The shop's categories; they change rarely, so they are kept for a while. */
export function useCategories() {
  return useQuery({
    queryKey: merchantKeys.categories,
    queryFn: ({ signal }) => api<{ items: Category[] }>('/api/categories', { signal }),
    staleTime: 5 * 60_000,
  });
}

/** One product as its owner sees it (hidden ones included). */
export function useProduct(id: string) {
  return useQuery({
    queryKey: merchantKeys.product(id),
    queryFn: ({ signal }) => api<Product>(`/api/products/${encodeURIComponent(id)}`, { signal }),
  });
}

/** A product's stock; its owner and admins also get `onHand` and `reserved`. */
export function useStock(id: string) {
  return useQuery({
    queryKey: merchantKeys.stock(id),
    queryFn: ({ signal }) => api<Stock>(`/api/inventory/${encodeURIComponent(id)}`, { signal }),
  });
}

/** Whether shoppers can see a product: it is hidden when an anonymous read of it finds nothing. */
export type Visibility = 'visible' | 'hidden';

/**
 * The product as a signed-out shopper would find it. Products carry no `hidden` field, and the
 * owner's own read shows hidden ones too, so the shopper's view is the one that tells.
 */
export function useVisibility(id: string) {
  return useQuery({
    queryKey: merchantKeys.visibility(id),
    queryFn: async ({ signal }): Promise<Visibility> => {
      try {
        await api<Product>(`/api/products/${encodeURIComponent(id)}`, { signal, auth: false });
        return 'visible';
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return 'hidden';
        throw err;
      }
    },
  });
}

/**
 * The store's currency, learnt from any product (every product is priced in it); null while the
 * shop has none. New products need it before they exist, to read the price the merchant types.
 */
export function useStoreCurrency() {
  return useQuery({
    queryKey: merchantKeys.storeCurrency,
    queryFn: async ({ signal }) => {
      const page = await api<ProductPage>('/api/products?limit=1', { signal });
      return page.items[0]?.currency ?? null;
    },
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Publishes a product; the caller becomes its merchant. */
export function createProduct(product: NewProduct): Promise<Product> {
  return api<Product>('/api/products', { method: 'POST', body: product });
}

/** Changes the given fields of a product. */
export function changeProduct(id: string, changes: ProductChanges): Promise<Product> {
  return api<Product>(`/api/products/${encodeURIComponent(id)}`, { method: 'PATCH', body: changes });
}

/** Hides a product from browsing; orders that hold it keep it. */
export function hideProduct(id: string): Promise<void> {
  return api<void>(`/api/products/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Sets how many of a product are on hand; 409 `BELOW_RESERVED` under what open orders hold. */
export function setStock(id: string, onHand: number): Promise<Stock> {
  return api<Stock>(`/api/inventory/${encodeURIComponent(id)}`, { method: 'PUT', body: { onHand } });
}

/** How many decimals `currency` has (2 for USD, 0 for JPY); 2 when it is not known. */
export function currencyDigits(currency: string | null | undefined): number {
  if (!currency) return 2;
  try {
    const options = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions();
    return options.maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Why a typed price could not be read, or the integer minor units it stands for. */
export type ParsedPrice = { ok: true; minor: number } | { ok: false; message: string };

/**
 * Reads a price typed in major units ("12.50", "12,5", "12") as integer minor units with `digits`
 * decimals, exactly. Refuses signs, thousands separators and more decimals than the currency has.
 */
export function parsePrice(text: string, digits: number): ParsedPrice {
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
  if (!match)
    return { ok: false, message: digits > 0 ? 'enter an amount like 12.50' : 'enter a whole amount' };
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > digits)
    return {
      ok: false,
      message: digits === 0 ? 'this currency has no decimals' : `use at most ${digits} decimals`,
    };
  const minor = Number(whole + fraction.padEnd(digits, '0'));
  if (!Number.isSafeInteger(minor)) return { ok: false, message: 'is too large' };
  return { ok: true, minor };
}

/** Integer minor units as a decimal in major units for an input ("1250" with 2 digits → "12.50"). */
export function formatPriceInput(minor: number, digits: number): string {
  if (digits === 0) return String(minor);
  const padded = String(minor).padStart(digits + 1, '0');
  return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/** Reads a typed stock count: a whole number from 0 up; null for anything else. */
export function parseStock(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : null;
}

/** The total of the lines an order shows (for merchants: only their own lines). */
export function linesTotal(order: Order): number {
  return order.items.reduce((sum, line) => sum + line.lineTotal, 0);
}
