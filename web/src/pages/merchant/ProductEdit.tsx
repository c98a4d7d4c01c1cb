/**
 * `/merchant/products/new` and `/merchant/products/:id`: publish a product with its first stock,
 * or change one, set its stock and hide it.
 */
import type { Product, ProductChanges } from '@bazaar/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { errorSentence } from '../../lib/api.ts';
import { useAuth } from '../../lib/auth.tsx';
import {
  changeProduct,
  createProduct,
  currencyDigits,
  formatPriceInput,
  merchantKeys,
  setStock,
  useProduct,
  useStoreCurrency,
} from '../../lib/merchant.ts';
import { type ProductDraft, ProductForm, type ProductValues } from './ProductForm.tsx';
import { StockSection, VisibilitySection } from './ProductSections.tsx';

/** What the editor is told when it opens on a product just created. */
interface Arrival {
  notice?: string;
  problem?: string;
}

/** The product editor: a new product without `:id`, else the product `:id` (lazy-loaded by App). */
export default function ProductEditPage() {
  const { id } = useParams();
  // Keyed so that moving from "new" to the created product starts a fresh editor.
  return id ? <ProductEditor key={id} id={id} /> : <NewProductEditor />;
}

function BackLink() {
  return (
    <p>
      <Link to="/merchant">Back to my products</Link>
    </p>
  );
}

function NewProductEditor() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const currency = useStoreCurrency();

  async function publish(values: ProductValues) {
    const product = await createProduct({
      name: values.name,
      description: values.description,
      price: values.price,
      category: values.category,
    });
    queries.setQueryData(merchantKeys.product(product.id), product);
    void queries.invalidateQueries({ queryKey: merchantKeys.allProducts });
    const arrival: Arrival = { notice: 'Product saved.' };
    try {
      await setStock(product.id, values.onHand ?? 0);
    } catch (err) {
      arrival.problem = `The stock was not set: ${errorSentence(err)}`;
    }
    navigate(`/merchant/products/${product.id}`, { state: arrival });
  }

  return (
    <section className="console">
      <PageTitle>New product</PageTitle>
      <BackLink />
      {currency.isPending ? (
        <Loading />
      ) : (
        <ProductForm
          initial={{ name: '', description: '', price: '', category: '' }}
          currency={currency.data ?? null}
          digits={currencyDigits(currency.data)}
          withStock
          onSubmit={publish}
        />
      )}
    </section>
  );
}

function ProductEditor({ id }: { id: string }) {
  const product = useProduct(id);
  if (product.isPending)
    return (
      <section className="console">
        <PageTitle>Edit product</PageTitle>
        <Loading label="Loading the product…" />
      </section>
    );
  if (product.error)
    return (
      <section className="console">
        <PageTitle>Edit product</PageTitle>
        <ErrorNote error={product.error} retry={() => void product.refetch()} />
        <BackLink />
      </section>
    );
  return <LoadedEditor product={product.data} />;
}

function LoadedEditor({ product }: { product: Product }) {
  const { user } = useAuth();
  const location = useLocation();
  const arrival = (location.state ?? {}) as Arrival;
  const queries = useQueryClient();
  const [notice, setNotice] = useState(arrival.notice);
  const digits = currencyDigits(product.currency);
  const mayChange = user?.role === 'admin' || user?.id === product.merchantId;

  async function save(values: ProductValues) {
    setNotice(undefined);
    const changes = changesOf(product, values);
    if (Object.keys(changes).length === 0) {
      setNotice('Nothing changed, so there was nothing to save.');
      return;
    }
    const saved = await changeProduct(product.id, changes);
    queries.setQueryData(merchantKeys.product(product.id), saved);
    void queries.invalidateQueries({ queryKey: merchantKeys.allProducts });
    setNotice('Product saved.');
  }

  return (
    <section className="console">
      <PageTitle title={`Edit ${product.name}`}>Edit {product.name}</PageTitle>
      <BackLink />
      {notice && (
        <p className="notice-line" role="status">
          {notice}
        </p>
      )}
      {arrival.problem && (
        <div className="error-note" role="alert">
          <p>{arrival.problem}</p>
        </div>
      )}
      {mayChange ? (
        <div className="editor-columns">
          <section className="panel" aria-labelledby="details-heading">
            <h2 id="details-heading">Details</h2>
            <ProductForm
              initial={draftOf(product, digits)}
              currency={product.currency}
              digits={digits}
              withStock={false}
              onSubmit={save}
            />
          </section>
          <div>
            <StockSection productId={product.id} />
            <VisibilitySection productId={product.id} />
          </div>
        </div>
      ) : (
        <p className="notice">This product belongs to another merchant, so you cannot change it.</p>
      )}
    </section>
  );
}

function draftOf(product: Product, digits: number): ProductDraft {
  return {
    name: product.name,
    description: product.description,
    price: formatPriceInput(product.price, digits),
    category: product.category,
  };
}

/** Only the fields that differ from the product as it is. */
function changesOf(product: Product, values: ProductValues): ProductChanges {
  const changes: ProductChanges = {};
  if (values.name !== product.name) changes.name = values.name;
  if (values.description !== product.description) changes.description = values.description;
  if (values.price !== product.price) changes.price = values.price;
  if (values.category !== product.category) changes.category = values.category;
  return changes;
}
