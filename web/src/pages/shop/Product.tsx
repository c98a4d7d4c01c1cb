/** One product: its description, price and stock, and for customers a way to add it to the cart. */
import type { Product } from '@bazaar/contracts';
import { type FormEvent, useId, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorNote, Loading, Money, PageTitle } from '../../components/ui.tsx';
import { ApiError } from '../../lib/api.ts';
import { useAuth } from '../../lib/auth.tsx';
import { formatAgo } from '../../lib/ops-text.ts';
import { MAX_LINE_QUANTITY, useAddToCart, useCategories, useProduct, useStock } from '../../lib/shop.ts';

/** `/p/:id`: the product, or a note that it is gone. */
export function ProductPage() {
  const { id = '' } = useParams();
  const product = useProduct(id);
  if (product.isPending) return <Loading />;
  if (product.error) {
    if (product.error instanceof ApiError && product.error.status === 404) return <Gone />;
    return (
      <>
        <PageTitle>Product</PageTitle>
        <ErrorNote error={product.error} retry={() => void product.refetch()} />
      </>
    );
  }
  return <ProductDetails product={product.data} />;
}

function Gone() {
  return (
    <>
      <PageTitle>Product not found</PageTitle>
      <p>This product is not available any more.</p>
      <p>
        <Link to="/">Back to the shop</Link>
      </p>
    </>
  );
}

function ProductDetails({ product }: { product: Product }) {
  const stock = useStock(product.id);
  // The stock service knows best; the product's own figure stands in if it cannot be asked, and
  // then says how old it is.
  const available = stock.data?.available ?? product.available;
  const asOf = stock.data === undefined && stock.isError ? product.availableAsOf : null;
  return (
    <article className="product-page">
      <div className="thumb product-thumb" aria-hidden="true">
        {(Array.from(product.name.trim())[0] ?? '?').toLocaleUpperCase()}
      </div>
      <div className="product-info">
        <CategoryLink slug={product.category} />
        <PageTitle>{product.name}</PageTitle>
        <p className="price product-price">
          <Money amount={product.price} currency={product.currency} />
        </p>
        <Availability
          available={available}
          asOf={asOf}
          loading={stock.isPending && product.available === null}
        />
        <BuyControls product={product} available={available} />
        <h2>Description</h2>
        <p className="description">{product.description || 'No description yet.'}</p>
      </div>
    </article>
  );
}

function CategoryLink({ slug }: { slug: string }) {
  const categories = useCategories();
  const name = categories.data?.find((c) => c.slug === slug)?.name;
  if (!name) return null;
  return (
    <p className="breadcrumb">
      <Link to={`/c/${slug}`}>{name}</Link>
    </p>
  );
}

function Availability({
  available,
  asOf,
  loading,
}: {
  available: number | null;
  asOf: string | null;
  loading: boolean;
}) {
  if (loading) return <p className="stock muted">Checking stock…</p>;
  if (available === null) return <p className="stock muted">Stock not known right now.</p>;
  const age = asOf ? <span className="muted"> (last known, {formatAgo(asOf, Date.now())})</span> : null;
  if (available <= 0) return <p className="stock stock-out">Out of stock{age}</p>;
  return (
    <p className="stock stock-in">
      In stock: {available} available{age}
    </p>
  );
}

/** Visitors are asked to log in, customers can buy, merchants and admins only look. */
function BuyControls({ product, available }: { product: Product; available: number | null }) {
  const { user, ready } = useAuth();
  if (!ready) return null;
  if (!user)
    return (
      <p>
        <Link className="button" to={`/login?next=${encodeURIComponent(`/p/${product.id}`)}`}>
          Log in to buy
        </Link>
      </p>
    );
  if (user.role !== 'customer' || available === 0) return null;
  return <AddToCart productId={product.id} />;
}

function AddToCart({ productId }: { productId: string }) {
  const inputId = useId();
  const errorId = useId();
  const [quantity, setQuantity] = useState('1');
  const [invalid, setInvalid] = useState(false);
  const add = useAddToCart();

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const n = Number(quantity);
    const ok = Number.isInteger(n) && n >= 1 && n <= MAX_LINE_QUANTITY;
    setInvalid(!ok);
    if (ok) add.mutate({ productId, quantity: n });
  };

  return (
    <form className="add-to-cart" onSubmit={onSubmit} noValidate>
      <div className="add-to-cart-row">
        <div>
          <label htmlFor={inputId}>Quantity</label>
          <input
            id={inputId}
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_LINE_QUANTITY}
            step={1}
            value={quantity}
            onChange={(event) => setQuantity(event.target.value)}
            aria-invalid={invalid || undefined}
            aria-describedby={invalid ? errorId : undefined}
          />
        </div>
        <button type="submit" disabled={add.isPending}>
          Add to cart
        </button>
      </div>
      {invalid && (
        <p id={errorId} className="field-error">
          Choose a quantity from 1 to {MAX_LINE_QUANTITY}.
        </p>
      )}
      {add.error && <ErrorNote error={add.error} />}
      <p role="status" className="added">
        {add.isSuccess && (
          <>
            {add.data.capped
              ? `Added to your cart. A cart line holds at most ${MAX_LINE_QUANTITY}.`
              : 'Added to your cart.'}{' '}
            <Link to="/cart">Go to cart</Link>
          </>
        )}
      </p>
    </form>
  );
}
