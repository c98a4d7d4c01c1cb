/** Search results for the text typed in the header's search box (`/search?q=`). */
import { useSearchParams } from 'react-router';
import { ProductGrid } from '../../components/ProductCard.tsx';
import { Empty, ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { useProductSearch } from '../../lib/shop.ts';

/** `/search?q=`: the matching products, with more on request. */
export function SearchPage() {
  const [params] = useSearchParams();
  const q = (params.get('q') ?? '').trim();
  return (
    <>
      <PageTitle>Search</PageTitle>
      {q ? <Results q={q} /> : <p>Type what you are looking for in the search box at the top of the page.</p>}
    </>
  );
}

function Results({ q }: { q: string }) {
  const search = useProductSearch(q);
  if (search.isPending) return <Loading label="Searching…" />;
  // A failed next page keeps the results shown; any other failure replaces them.
  if (search.isError && !search.isFetchNextPageError)
    return <ErrorNote error={search.error} retry={() => void search.refetch()} />;
  const products = search.data?.pages.flatMap((page) => page.items) ?? [];
  const stale = search.isPlaceholderData;
  return (
    <section aria-labelledby="search-results" aria-busy={stale}>
      <h2 id="search-results" className="visually-hidden">
        Results
      </h2>
      {products.length === 0 ? (
        !stale && <Empty>No products match “{q}”.</Empty>
      ) : (
        <ProductGrid products={products} label={`Products matching “${q}”`} />
      )}
      {search.isFetchNextPageError && <ErrorNote error={search.error} />}
      {search.hasNextPage && !stale && (
        <p className="pager">
          <button
            type="button"
            className="secondary"
            disabled={search.isFetchingNextPage}
            onClick={() => void search.fetchNextPage()}
          >
            {search.isFetchingNextPage ? 'Loading…' : 'More results'}
          </button>
        </p>
      )}
    </section>
  );
}
