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
