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
import {
  AppError,
  assertOwnerOrAdmin,
  isOwnerOrAdmin,
  requireRole,
  requireUser,
  type ServiceContext,
} from '@bazaar/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { InvalidCursorError } from '../domain/cursor.ts';
import type { Queryable } from '../store/db.ts';
import {
  categoryExists,
  findProduct,
  hideProduct,
  insertProduct,
  listCategories,
  listProducts,
  updateProduct,
} from '../store/products.ts';

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
    (request) => showProduct(ctx.db, request, request.params.id),
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
      await checkCategory(ctx.db, request.body.category);
      const product = await insertProduct(ctx.db, {
        ...request.body,
        merchantId: merchant.id,
        currency: ctx.config.BAZAAR_CURRENCY,
      });
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
    async (request) => {
      await ownedProduct(ctx.db, request, request.params.id);
      if (request.body.category !== undefined) await checkCategory(ctx.db, request.body.category);
      const product = await updateProduct(ctx.db, request.params.id, request.body);
      if (!product) throw notFound(request.params.id);
      return product;
    },
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
      await ownedProduct(ctx.db, request, request.params.id);
      await hideProduct(ctx.db, request.params.id);
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

/** A visible product; a hidden one only to its merchant and admins, to anyone else it does not exist. */
async function showProduct(db: Queryable, request: FastifyRequest, id: string): Promise<Product> {
  const found = await findProduct(db, id);
  if (!found || (found.hidden && !isOwnerOrAdmin(request, found.product.merchantId))) throw notFound(id);
  return found.product;
}

/** The product when the caller may change it; another merchant's product answers 404, as if absent. */
async function ownedProduct(db: Queryable, request: FastifyRequest, id: string): Promise<Product> {
  requireUser(request);
  const found = await findProduct(db, id);
  if (!found) throw notFound(id);
  assertOwnerOrAdmin(request, found.product.merchantId, 'PRODUCT_NOT_FOUND', `There is no product ${id}.`);
  return found.product;
}

async function checkCategory(db: Queryable, slug: string): Promise<void> {
  if (!(await categoryExists(db, slug))) {
    throw new AppError('VALIDATION_FAILED', 'The request has invalid fields.', {
      errors: [{ path: 'body/category', message: `there is no category "${slug}" (see /api/categories)` }],
    });
  }
}

function notFound(id: string): AppError {
  return new AppError('PRODUCT_NOT_FOUND', `There is no product ${id}.`);
}

async function categories(db: Queryable): Promise<{ items: Category[] }> {
  return { items: await listCategories(db) };
}
