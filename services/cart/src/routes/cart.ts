import { Cart, CartContents, CartLineSetting, Problem } from '@bazaar/contracts';
import { requireRole, requireService } from '@bazaar/kit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type Carts, emptyCart, removeCartLine, setCartLine, showCart } from '../carts.ts';
import { readLines } from '../store/carts.ts';

const TAGS = ['cart'];
const ProductParams = Type.Object({ productId: Type.String({ minLength: 1, maxLength: 64 }) });
const CustomerParams = Type.Object({ customerId: Type.String({ minLength: 1, maxLength: 64 }) });
const errors = { 401: Problem, 403: Problem, 503: Problem };

/** The customer's own cart, and its stored lines for orders' checkout. */
export function cartRoutes(scope: FastifyInstance, carts: Carts): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/cart',
    {
      schema: {
        tags: TAGS,
        operationId: 'getCart',
        summary: "The caller's cart, at today's prices (customers)",
        description: 'Lines whose product was hidden since are left out of the answer.',
        response: { 200: Cart, ...errors },
      },
    },
    (request) => showCart(carts, requireRole(request, 'customer').id),
  );

  app.put(
    '/api/cart/items/:productId',
    {
      schema: {
        tags: TAGS,
        operationId: 'setCartLine',
        summary: 'Set how many of a product the cart holds; 0 removes the line (customers)',
        params: ProductParams,
        body: CartLineSetting,
        response: { 200: Cart, 400: Problem, 404: Problem, 409: Problem, ...errors },
      },
    },
    (request) =>
      setCartLine(
        carts,
        requireRole(request, 'customer').id,
        request.params.productId,
        request.body.quantity,
      ),
  );

  app.delete(
    '/api/cart/items/:productId',
    {
      schema: {
        tags: TAGS,
        operationId: 'removeCartLine',
        summary: 'Remove a line from the cart (customers)',
        params: ProductParams,
        response: { 200: Cart, ...errors },
      },
    },
    (request) => removeCartLine(carts, requireRole(request, 'customer').id, request.params.productId),
  );

  app.delete(
    '/api/cart',
    {
      schema: {
        tags: TAGS,
        operationId: 'emptyCart',
        summary: 'Empty the cart (customers)',
        response: { 204: Type.Null({ description: 'The cart is empty now.' }), 401: Problem, 403: Problem },
      },
    },
    async (request, reply) => {
      await emptyCart(carts, requireRole(request, 'customer').id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/internal/carts/:customerId',
    { schema: { params: CustomerParams, response: { 200: CartContents, 401: Problem, 403: Problem } } },
    async (request) => {
      requireService(request, 'orders');
      return { items: await readLines(carts.db, request.params.customerId) };
    },
  );
}
