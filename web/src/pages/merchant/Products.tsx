/** `/merchant`: the signed-in merchant's products, with links to add one and to their orders. */
import type { Product } from '@bazaar/contracts';
import { Link } from 'react-router';
import { Empty, ErrorNote, Money, PageTitle, QueryState } from '../../components/ui.tsx';
import { useAuth } from '../../lib/auth.tsx';
import { useCategories, useMyProducts } from '../../lib/merchant.ts';
import { LoadMore } from './LoadMore.tsx';

/** The merchant's products page (lazy-loaded by App). */
export default function MerchantProductsPage() {
  const { user } = useAuth();
  return (
    <section className="console">
      <PageTitle>My products</PageTitle>
      <ul className="console-actions">
        <li>
          <Link className="button" to="/merchant/products/new">
            New product
          </Link>
        </li>
        <li>
          <Link to="/merchant/orders">Orders with my products</Link>
        </li>
      </ul>
      {user && <ProductTable merchantId={user.id} />}
    </section>
  );
}

function ProductTable({ merchantId }: { merchantId: string }) {
  const products = useMyProducts(merchantId);
  const categoryNames = useCategoryNames();
  return (
    <QueryState query={products} loadingLabel="Loading your products…">
      {(data) => {
        const items = data.pages.flatMap((page) => page.items);
        if (items.length === 0) return <Empty>You have no products yet.</Empty>;
        return (
          <>
            <div className="table-wrap">
              <table className="my-products">
                <caption className="visually-hidden">Your products</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Category</th>
                    <th scope="col" className="num">
                      Price
                    </th>
                    <th scope="col" className="num">
                      Available
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((product) => (
                    <ProductRow
                      key={product.id}
                      product={product}
                      categoryName={categoryNames.get(product.category)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted fine-print">
              Hidden products are not listed; shoppers cannot see them either.
            </p>
            {products.isFetchNextPageError && (
              <ErrorNote error={products.error} retry={() => products.fetchNextPage()} />
            )}
            {products.hasNextPage && (
              <LoadMore loading={products.isFetchingNextPage} onClick={() => products.fetchNextPage()} />
            )}
          </>
        );
      }}
    </QueryState>
  );
}

function ProductRow({ product, categoryName }: { product: Product; categoryName: string | undefined }) {
  return (
    <tr>
      <th scope="row">
        <Link to={`/merchant/products/${product.id}`}>{product.name}</Link>
      </th>
      <td>{categoryName ?? product.category}</td>
      <td className="num">
        <Money amount={product.price} currency={product.currency} />
      </td>
      <td className="num">{product.available ?? '—'}</td>
    </tr>
  );
}

/** Category display names by slug; empty until they arrive (the slug stands in meanwhile). */
function useCategoryNames(): Map<string, string> {
  const categories = useCategories();
  return new Map((categories.data?.items ?? []).map((c) => [c.slug, c.name]));
}
