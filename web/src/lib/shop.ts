/**
 * The storefront's data: fetchers and react-query hooks for products, categories, stock, the cart
 * and orders. Every read passes react-query's AbortSignal on, so a query nobody waits for any more
 * (a search the shopper kept typing past) is cancelled. The cart lives under one key, `CART_KEY`,
 * so any page or the header can refresh it.
 */
import type {
  Address,
  Cart,
  Category,
  Order,
  OrderPage,
  Product,
  ProductPage,
  Stock,
} from '@bazaar/contracts';
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { api } from './api.ts';

/** The one react-query key of the signed-in customer's cart. */
export const CART_KEY = ['cart'] as const;
/** The prefix of every order query (lists and single orders). */
export const ORDERS_KEY = ['orders'] as const;

/** How many products the home page shows. */
export const SELECTION_SIZE = 8;
/** How many products a category page or a search shows at a time. */
export const PAGE_SIZE = 12;
/** The API's longest search text. */
const MAX_QUERY_LENGTH = 200;

/** The filters of `GET /api/products`. */
export interface ProductFilter {
  q?: string;
  category?: string;
  limit?: number;
  cursor?: string;
}

/** One page of products matching `filter`. */
export function fetchProducts(filter: ProductFilter, signal?: AbortSignal): Promise<ProductPage> {
  const params = new URLSearchParams();
  if (filter.q) params.set('q', filter.q.slice(0, MAX_QUERY_LENGTH));
  if (filter.category) params.set('category', filter.category);
  if (filter.limit) params.set('limit', String(filter.limit));
  if (filter.cursor) params.set('cursor', filter.cursor);
  return api<ProductPage>(`/api/products?${params}`, { signal });
}

/** One page of products; the previous page stays on screen while the next one loads. */
export function useProducts(filter: ProductFilter) {
  return useQuery({
    queryKey: ['products', filter],
    queryFn: ({ signal }) => fetchProducts(filter, signal),
    placeholderData: keepPreviousData,
  });
}

/** Search results for `q`, a page at a time ("More results" asks for the next). */
export function useProductSearch(q: string) {
  return useInfiniteQuery({
    queryKey: ['products', 'search', q],
    queryFn: ({ signal, pageParam }) => fetchProducts({ q, limit: PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: q !== '',
    placeholderData: keepPreviousData,
  });
}

/** One product; a hidden or unknown one fails with a 404 `ApiError`. */
export function useProduct(id: string) {
  return useQuery({
    queryKey: ['product', id],
    queryFn: ({ signal }) => api<Product>(`/api/products/${encodeURIComponent(id)}`, { signal }),
  });
}

/** The fresh stock of one product (the product's own `available` may be a little old). */
export function useStock(productId: string) {
  return useQuery({
    queryKey: ['stock', productId],
    queryFn: ({ signal }) => api<Stock>(`/api/inventory/${encodeURIComponent(productId)}`, { signal }),
    staleTime: 5_000,
  });
}

/** Every category, in the API's order; they rarely change, so they are kept a while. */
export function useCategories() {
  return useQuery({
    queryKey: ['categories'],
    queryFn: ({ signal }) => api<{ items: Category[] }>('/api/categories', { signal }),
    select: (list) => list.items,
    staleTime: 5 * 60_000,
  });
}

/** The signed-in customer's cart, asked for afresh. */
export function fetchCart(signal?: AbortSignal): Promise<Cart> {
  return api<Cart>('/api/cart', { signal });
}

/**
 * The signed-in customer's cart. `enabled` is false for visitors and other roles, who have none.
 * It is always refetched when a page shows it: the cart empties by itself after an order.
 */
export function useCart(enabled = true) {
  return useQuery({
    queryKey: CART_KEY,
    queryFn: ({ signal }) => fetchCart(signal),
    enabled,
    staleTime: 0,
  });
}

/** Sets one line of the cart (0 removes it); the answer becomes the cached cart. */
export function setCartLine(productId: string, quantity: number): Promise<Cart> {
  return api<Cart>(`/api/cart/items/${encodeURIComponent(productId)}`, {
    method: 'PUT',
    body: { quantity },
  });
}

/**
 * Changes to the cart, one at a time in the order they were made (a shared mutation scope), so a
 * slow early change never overwrites a later one.
 */
export function useCartChange() {
  const queries = useQueryClient();
  return useMutation({
    scope: { id: 'cart' },
    mutationFn: ({ productId, quantity }: { productId: string; quantity: number }) =>
      setCartLine(productId, quantity),
    onSuccess: (cart) => queries.setQueryData(CART_KEY, cart),
  });
}

/** The most a cart line may hold (CONTRACT). */
export const MAX_LINE_QUANTITY = 99;

/**
 * Adds `quantity` of a product to the cart: reads the cart as it is now and sets the line to what
 * was there plus `quantity`, at most 99. Answers whether the line had to be capped.
 */
export function useAddToCart() {
  const queries = useQueryClient();
  return useMutation({
    scope: { id: 'cart' },
    mutationFn: async ({ productId, quantity }: { productId: string; quantity: number }) => {
      const cart = await queries.fetchQuery({ queryKey: CART_KEY, queryFn: () => fetchCart(), staleTime: 0 });
      const had = cart.items.find((line) => line.productId === productId)?.quantity ?? 0;
      const wanted = had + quantity;
      const answer = await setCartLine(productId, Math.min(wanted, MAX_LINE_QUANTITY));
      return { cart: answer, capped: wanted > MAX_LINE_QUANTITY };
    },
    onSuccess: ({ cart }) => queries.setQueryData(CART_KEY, cart),
  });
}

/** What `POST /api/orders` sends (CONTRACT "Checkout"). */
export interface CheckoutRequest {
  paymentToken: string;
  shippingAddress: Address;
  expectedTotal: number;
}

/** Places an order of the cart; `key` is the attempt's Idempotency-Key, reused on a retry. */
export function placeOrder(request: CheckoutRequest, key: string): Promise<Order> {
  return api<Order>('/api/orders', { method: 'POST', body: request, headers: { 'Idempotency-Key': key } });
}

function orderKey(id: string) {
  return [...ORDERS_KEY, 'one', id] as const;
}

/**
 * One order; asked again every second while it is PENDING, since it settles by itself, and while
 * a cancellation the shopper asked for is still being carried out (`cancelling`).
 */
export function useOrder(id: string, cancelling = false) {
  return useQuery({
    queryKey: orderKey(id),
    queryFn: ({ signal }) => api<Order>(`/api/orders/${encodeURIComponent(id)}`, { signal }),
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status === 'PENDING' || (cancelling && status !== 'CANCELLED') ? 1000 : false;
    },
  });
}

/** The caller's orders (all of them for admins), newest first, a page at a time. */
export function useOrders() {
  return useInfiniteQuery({
    queryKey: [...ORDERS_KEY, 'list'],
    queryFn: ({ signal, pageParam }) => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (pageParam) params.set('cursor', pageParam);
      return api<OrderPage>(`/api/orders?${params}`, { signal });
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // A pending order settles within seconds; keep the list honest while one is shown.
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some((order) => order.status === 'PENDING'))
        ? 2000
        : false,
  });
}

/**
 * Cancels an order (the answer may still be the order before compensation finished), then
 * refreshes every order query.
 */
export function useCancelOrder(id: string) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: () => api<Order>(`/api/orders/${encodeURIComponent(id)}/cancel`, { method: 'POST' }),
    onSuccess: (order) => queries.setQueryData(orderKey(id), order),
    onSettled: () => queries.invalidateQueries({ queryKey: ORDERS_KEY }),
  });
}

/** Keeps a freshly placed order, so its page shows it at once. */
export function useRememberOrder() {
  const queries = useQueryClient();
  return (order: Order) => {
    queries.setQueryData(orderKey(order.id), order);
    void queries.invalidateQueries({ queryKey: [...ORDERS_KEY, 'list'] });
  };
}
