import { Problem, type ProductFactsList, Stock, StockSetting } from '@bazaar/contracts';
import { AppError, assertOwnerOrAdmin, type Principals, requireUser, type ServiceContext } from '@bazaar/kit';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { InventoryConfig } from '../config.ts';
import { productKey } from '../domain/reservation.ts';
import { stockView } from '../domain/stock.ts';
import { inventoryMetrics } from '../metrics.ts';
import { findOwner, recordOwner } from '../store/owners.ts';
import { findStock, setOnHand } from '../store/stock.ts';

const TAGS = ['inventory'];
const ProductParams = Type.Object({
  productId: Type.String({ minLength: 1, maxLength: 64, description: 'The product id (a UUID).' }),
});

/** The public stock of products: anyone reads what is available; owners and admins set it. */
export async function stockRoutes(app: FastifyInstance, ctx: ServiceContext<InventoryConfig>): Promise<void> {
  const metrics = inventoryMetrics(ctx.metrics);

  app.get<{ Params: { productId: string } }>(
    '/api/inventory/:productId',
    {
      schema: {
        tags: TAGS,
        operationId: 'getStock',
        summary: "A product's available stock",
        description:
          'Anyone sees `available` (0 for a product inventory does not know); its merchant and admins also see `onHand` and `reserved`.',
        params: ProductParams,
        response: { 200: Stock, 400: Problem },
      },
    },
    async (request) => {
      const productId = productKey(request.params.productId);
      // No call to catalog on a read: an owner inventory has not heard of yet just sees less.
      const [levels, owner] = await Promise.all([findStock(ctx.db, productId), findOwner(ctx.db, productId)]);
      return stockView(productId, levels, seesEverything(request, owner));
    },
  );

  app.put<{ Params: { productId: string }; Body: StockSetting }>(
    '/api/inventory/:productId',
    {
      schema: {
        tags: TAGS,
        operationId: 'setStock',
        summary: "Set a product's stock on hand (its merchant, admins)",
        description:
          'onHand counts what reservations hold too; setting it below that is a 409 `BELOW_RESERVED` and changes nothing.',
        params: ProductParams,
        body: StockSetting,
        response: { 200: Stock, 400: Problem, 401: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const productId = productKey(request.params.productId);
      const notFound = `There is no product ${productId}.`;
      // A customer owns no product: answer as for anyone else's, without asking catalog.
      if (user.role === 'customer') throw new AppError('PRODUCT_NOT_FOUND', notFound);
      const owner = await ownerOf(ctx, productId);
      if (owner === null) throw new AppError('PRODUCT_NOT_FOUND', notFound);
      assertOwnerOrAdmin(request, owner, 'PRODUCT_NOT_FOUND', notFound);

      const result = await setOnHand(ctx, productId, request.body.onHand);
      if ('refused' in result) {
        metrics.adjustments.inc({ outcome: 'below_reserved' });
        throw new AppError(
          'BELOW_RESERVED',
          `Reservations hold ${result.levels.reserved} of ${productId}: onHand cannot go below that.`,
        );
      }
      metrics.adjustments.inc({ outcome: result.change === 0 ? 'unchanged' : 'changed' });
      return stockView(productId, result.levels, true);
    },
  );
}

/** Whether the caller sees the counts behind `available`: the product's merchant, or an admin. */
function seesEverything(request: Principals, owner: string | null): boolean {
  const user = request.user;
  return user !== undefined && (user.role === 'admin' || (owner !== null && user.id === owner));
}

/**
 * The merchant of a product: as catalog's events told inventory, else asked of catalog (a stock
 * setting can come before the event) and remembered. Null when catalog knows no such product.
 */
async function ownerOf(ctx: ServiceContext<InventoryConfig>, productId: string): Promise<string | null> {
  const known = await findOwner(ctx.db, productId);
  if (known !== null) return known;
  const asked = new Date(ctx.clock.now());
  const { items } = await ctx.client('catalog').json<ProductFactsList>({
    method: 'POST',
    path: '/internal/products/lookup',
    body: { ids: [productId] },
    readOnly: true,
  });
  const product = items.find((p) => productKey(p.id) === productId);
  if (!product) return null;
  await recordOwner(ctx.db, { productId, merchantId: product.merchantId, asOf: asked });
  return product.merchantId;
}
