import { type Static, Type } from 'typebox';

/** Category slugs: lower-case words joined by hyphens. */
export const CategorySlug = Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 64 });

/** A product as shoppers see it (CONTRACT "Objects"). Money is in integer minor units. */
export const Product = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    merchantId: Type.String(),
    name: Type.String(),
    description: Type.String(),
    price: Type.Integer({ minimum: 0 }),
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    category: CategorySlug,
    imageUrl: Type.Union([Type.String(), Type.Null()]),
    available: Type.Union([Type.Integer(), Type.Null()]),
    availableAsOf: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Product' },
);
export type Product = Static<typeof Product>;

/** Paging query shared by every list (CONTRACT: limit default 20, max 100). */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

/** `GET /api/products` query. */
export const ProductListQuery = Type.Object(
  {
    ...PageQuery,
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    category: Type.Optional(CategorySlug),
    merchantId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type ProductListQuery = Static<typeof ProductListQuery>;

/** `GET /api/products`. */
export const ProductPage = Type.Object({
  items: Type.Array(Product),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ProductPage = Static<typeof ProductPage>;

/** A category: slug and display name. */
export const Category = Type.Object({ slug: CategorySlug, name: Type.String() });
export type Category = Static<typeof Category>;

/** `GET /api/categories`. */
export const CategoryList = Type.Object({ items: Type.Array(Category) });

/**
 * Where a product's picture is: a path on this site or an https URL. Stored and served as text
 * only — no server ever fetches it (SSRF).
 */
export const ImageUrl = Type.String({ maxLength: 2048, pattern: '^(/[^/\\\\]|https://[^\\s]+$)' });

/** `POST /api/products` body. The merchant is the caller; a `merchantId` here is refused. */
export const NewProduct = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.String({ maxLength: 5_000, default: '' }),
    price: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
    category: CategorySlug,
    imageUrl: Type.Optional(Type.Union([ImageUrl, Type.Null()])),
  },
  { additionalProperties: false },
);
export type NewProduct = Static<typeof NewProduct>;

/** `PATCH /api/products/:id` body: the fields to change. */
export const ProductChanges = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 5_000 })),
    price: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    category: Type.Optional(CategorySlug),
    imageUrl: Type.Optional(Type.Union([ImageUrl, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ProductChanges = Static<typeof ProductChanges>;
