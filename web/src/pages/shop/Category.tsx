/** One category's products, a page at a time. */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { ProductGrid } from '../../components/ProductCard.tsx';
import { Empty, ErrorNote, Loading, PageTitle, QueryState } from '../../components/ui.tsx';
import { PAGE_SIZE, useCategories, useProducts } from '../../lib/shop.ts';

/** `/c/:slug`: the category's name and its products. */
export function CategoryPage() {
  const { slug = '' } = useParams();
  const categories = useCategories();
  if (categories.isPending) return <Loading />;
  if (categories.error) return <ErrorNote error={categories.error} retry={() => void categories.refetch()} />;
  const category = categories.data.find((c) => c.slug === slug);
  if (!category)
    return (
      <>
        <PageTitle>Category not found</PageTitle>
        <p>
          There is no category “{slug}”. <Link to="/">Back to the shop</Link>
        </p>
      </>
    );
  return (
    <>
      <PageTitle>{category.name}</PageTitle>
      {/* A new category starts again at its first page. */}
      <CategoryProducts key={slug} slug={slug} name={category.name} />
    </>
  );
}

function CategoryProducts({ slug, name }: { slug: string; name: string }) {
  // The cursors of the pages seen so far: the last one is the page shown (undefined: the first).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const products = useProducts({ category: slug, limit: PAGE_SIZE, cursor });
  const page = cursors.length;

  const go = (next: (string | undefined)[]) => {
    setCursors(next);
    window.scrollTo({ top: 0 });
  };

  return (
    <QueryState query={products} loadingLabel="Loading products…">
      {(data) => (
        <section aria-label={`Products in ${name}`} aria-busy={products.isPlaceholderData}>
          {data.items.length === 0 ? (
            <Empty>{page === 1 ? 'There are no products in this category yet.' : 'No more products.'}</Empty>
          ) : (
            <ProductGrid products={data.items} label={`${name}, page ${page}`} />
          )}
          {(page > 1 || data.items.length > 0) && (
            <nav className="pager" aria-label="Pages">
              <button
                type="button"
                className="secondary"
                disabled={page === 1 || products.isPlaceholderData}
                onClick={() => go(cursors.slice(0, -1))}
              >
                Previous page
              </button>
              <span aria-live="polite">Page {page}</span>
              <button
                type="button"
                className="secondary"
                disabled={!data.nextCursor || products.isPlaceholderData}
                onClick={() => go([...cursors, data.nextCursor ?? undefined])}
              >
                Next page
              </button>
            </nav>
          )}
        </section>
      )}
    </QueryState>
  );
}
