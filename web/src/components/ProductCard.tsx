/** A product in a list: placeholder picture, name linking to its page, price and stock. */
import type { Product } from '@bazaar/contracts';
import { Link } from 'react-router';
import { Money } from './ui.tsx';

/** One product as a card (an `article` whose `h3` links to the product's page). */
export function ProductCard({ product }: { product: Product }) {
  return (
    <article className="card product-card">
      <div className="thumb" aria-hidden="true">
        {initial(product.name)}
      </div>
      <h3>
        <Link to={`/p/${product.id}`}>{product.name}</Link>
      </h3>
      <p className="price">
        <Money amount={product.price} currency={product.currency} />
      </p>
      <StockNote available={product.available} />
    </article>
  );
}

/** Cards of `products` as a list, which screen readers announce with its length. */
export function ProductGrid({ products, label }: { products: Product[]; label: string }) {
  return (
    <ul className="grid product-grid" aria-label={label}>
      {products.map((product) => (
        <li key={product.id}>
          <ProductCard product={product} />
        </li>
      ))}
    </ul>
  );
}

function StockNote({ available }: { available: number | null }) {
  if (available === null) return <p className="stock muted">Stock not known right now</p>;
  if (available <= 0) return <p className="stock stock-out">Out of stock</p>;
  return <p className="stock stock-in">{available} available</p>;
}

/** The first letter of a name, for the placeholder picture. */
function initial(name: string): string {
  return (Array.from(name.trim())[0] ?? '?').toLocaleUpperCase();
}
