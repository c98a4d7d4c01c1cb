import {
  type Category,
  CategoryList,
  Problem,
  Product,
  type ProductListQuery,
  ProductListQuery as ProductListQuerySchema,
  ProductPage,
} from '@bazaar/contracts';
import { AppError, type ServiceContext } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { InvalidCursorError } from '../domain/cursor.ts';
import type { Queryable } from '../store/db.ts';
import { getProduct, listCategories, listProducts } from '../store/products.ts';

const TAGS = ['catalog'];
const ProductParams = Type.Object({
  // Not `format: uuid`: a malformed id is answered like an unknown one, 404, so ids leak nothing.
  id: Type.String({ maxLength: 64, description: 'The product id (a UUID).' }),
});

/** The public catalog: browsing, search and categories. */
export async function productRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
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
    (request) => browseProducts(ctx.db, request.query),
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
    (request) => showProduct(ctx.db, request.params.id),
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
    () => categories(ctx.db),
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

async function showProduct(db: Queryable, id: string): Promise<Product> {
  const product = await getProduct(db, id);
  if (!product) throw new AppError('PRODUCT_NOT_FOUND', `There is no product ${id}.`);
  return product;
}

async function categories(db: Queryable): Promise<{ items: Category[] }> {
  return { items: await listCategories(db) };
}
