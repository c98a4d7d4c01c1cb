import {
  type Category,
  CategoryList,
  NewProduct,
  Problem,
  Product,
  ProductChanges,
  type ProductListQuery,
  ProductListQuery as ProductListQuerySchema,
  ProductPage,
} from '@bazaar/contracts';
import { AppError, requireRole } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Catalog } from '../catalog.ts';
import { InvalidCursorError } from '../domain/cursor.ts';
import type { Queryable } from '../store/db.ts';
import { listCategories, listProducts } from '../store/products.ts';

const TAGS = ['catalog'];
const ProductParams = Type.Object({
  // Not `format: uuid`: a malformed id is answered like an unknown one, 404, so ids leak nothing.
  id: Type.String({ maxLength: 64, description: 'The product id (a UUID).' }),
});

/** The public catalog: browsing, search and categories; merchants publish, change and hide products. */
export function productRoutes(
  app: FastifyInstance,
  { db, catalog }: { db: Queryable; catalog: Catalog },
): void {
  app.get<{ Querystring: ProductListQuery }>(
    '/api/products',
    {
      schema: {
        tags: TAGS,
        operationId: 'listProducts',
        summary: 'Browse and search products',
        description:
          'Newest first; with `q`, full-text search ordered by relevance. Filter by `category` and `merchantId`.',
        querystring: ProductListQuerySchema,
        response: { 200: ProductPage, 400: Problem },
      },
    },
    (request) => browseProducts(db, request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/api/products/:id',
    {
      schema: {
        tags: TAGS,
        operationId: 'getProduct',
        summary: 'Get one product',
        params: ProductParams,
        response: { 200: Product, 404: Problem },
      },
    },
    (request) => catalog.show(request, request.params.id),
  );

  app.post<{ Body: NewProduct }>(
    '/api/products',
    {
      schema: {
        tags: TAGS,
        operationId: 'createProduct',
        summary: 'Publish a product (merchants)',
        description: 'The caller becomes its merchant. Image URLs are stored as text and never fetched.',
        body: NewProduct,
        response: { 201: Product, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request, reply) => {
      const merchant = requireRole(request, 'merchant');
      const product = await catalog.publish(merchant.id, request.body);
      request.log.info({ productId: product.id }, 'product published');
      return reply.code(201).header('location', `/api/products/${product.id}`).send(product);
    },
  );

  app.patch<{ Params: { id: string }; Body: ProductChanges }>(
    '/api/products/:id',
    {
      schema: {
        tags: TAGS,
        operationId: 'changeProduct',
        summary: 'Change a product (its merchant, admins)',
        params: ProductParams,
        body: ProductChanges,
        response: { 200: Product, 400: Problem, 401: Problem, 404: Problem },
      },
    },
    (request) => catalog.change(request, request.params.id, request.body),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/products/:id',
    {
      schema: {
        tags: TAGS,
        operationId: 'deleteProduct',
        summary: 'Hide a product from browsing (its merchant, admins); orders keep it',
        params: ProductParams,
        response: { 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      await catalog.hide(request, request.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/categories',
    {
      schema: {
        tags: TAGS,
        operationId: 'listCategories',
        summary: 'List product categories',
        response: { 200: CategoryList },
      },
    },
    () => categories(db),
  );
}

async function browseProducts(db: Queryable, query: ProductListQuery): Promise<ProductPage> {
  try {
    return await listProducts(db, query);
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new AppError('VALIDATION_FAILED', 'The request has invalid fields.', {
        // Same path form as the kit's own validation errors (`querystring/limit`).
        errors: [{ path: 'querystring/cursor', message: error.message }],
      });
    }
    throw error;
  }
}

async function categories(db: Queryable): Promise<{ items: Category[] }> {
  return { items: await listCategories(db) };
}
