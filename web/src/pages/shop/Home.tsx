/** The shop's front page: the categories and a first selection of products. */
import { Link } from 'react-router';
import { ProductGrid } from '../../components/ProductCard.tsx';
import { Empty, PageTitle, QueryState } from '../../components/ui.tsx';
import { SELECTION_SIZE, useCategories, useProducts } from '../../lib/shop.ts';

/** `/`: welcome, categories to browse, and the newest products. */
export function HomePage() {
  return (
    <>
      <PageTitle>Welcome to Bazaar</PageTitle>
      <p className="lead">Browse by category, search above, or start with a few of our products.</p>
      <Categories />
      <Selection />
    </>
  );
}

function Categories() {
  const categories = useCategories();
  return (
    <section aria-labelledby="home-categories">
      <h2 id="home-categories">Categories</h2>
      <QueryState query={categories} loadingLabel="Loading categories…">
        {(items) =>
          items.length === 0 ? (
            <Empty>There are no categories yet.</Empty>
          ) : (
            <ul className="chips">
              {items.map((category) => (
                <li key={category.slug}>
                  <Link to={`/c/${category.slug}`}>{category.name}</Link>
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
    </section>
  );
}

function Selection() {
  const products = useProducts({ limit: SELECTION_SIZE });
  return (
    <section aria-labelledby="home-selection">
      <h2 id="home-selection">Selection</h2>
      <QueryState query={products} loadingLabel="Loading products…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>There are no products yet.</Empty>
          ) : (
            <ProductGrid products={page.items} label="Selected products" />
          )
        }
      </QueryState>
    </section>
  );
}
