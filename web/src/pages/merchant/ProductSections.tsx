/** The editor's "Stock" and "Visibility" sections for an existing product. */
import type { Stock } from '@bazaar/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Field } from '../../components/Field.tsx';
import { ErrorNote, Loading } from '../../components/ui.tsx';
import { ApiError, errorSentence, fieldErrors } from '../../lib/api.ts';
import {
  hideProduct,
  merchantKeys,
  parseStock,
  setStock,
  useStock,
  useVisibility,
} from '../../lib/merchant.ts';

/** Shows available, on hand and reserved, and sets the count on hand. */
export function StockSection({ productId }: { productId: string }) {
  const stock = useStock(productId);
  return (
    <section className="panel" aria-labelledby="stock-heading">
      <h2 id="stock-heading">Stock</h2>
      {stock.isPending ? (
        <Loading label="Loading stock…" />
      ) : stock.error ? (
        <ErrorNote error={stock.error} retry={() => void stock.refetch()} />
      ) : (
        <StockForm productId={productId} stock={stock.data} />
      )}
    </section>
  );
}

function StockForm({ productId, stock }: { productId: string; stock: Stock }) {
  const queries = useQueryClient();
  const [typed, setTyped] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const value = typed ?? String(stock.onHand ?? stock.available);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setOutcome(null);
    setFailure(null);
    const onHand = parseStock(value);
    if (onHand === null) {
      setProblem('enter a whole number from 0 up');
      return;
    }
    setProblem(undefined);
    setSaving(true);
    try {
      const saved = await setStock(productId, onHand);
      queries.setQueryData(merchantKeys.stock(productId), saved);
      void queries.invalidateQueries({ queryKey: merchantKeys.allProducts });
      setTyped(null);
      setOutcome('Stock saved.');
    } catch (err) {
      if (err instanceof ApiError && err.code === 'BELOW_RESERVED') setOutcome(errorSentence(err));
      else if (fieldErrors(err).onHand) setProblem(fieldErrors(err).onHand);
      else setFailure(err);
      void queries.invalidateQueries({ queryKey: merchantKeys.stock(productId) });
    } finally {
      setSaving(false);
    }
  }

  return (
    <>
      <dl className="stock-figures">
        <div>
          <dt>Available</dt>
          <dd>{stock.available}</dd>
        </div>
        {stock.onHand !== undefined && (
          <div>
            <dt>On hand</dt>
            <dd>{stock.onHand}</dd>
          </div>
        )}
        {stock.reserved !== undefined && (
          <div>
            <dt>Reserved</dt>
            <dd>{stock.reserved}</dd>
          </div>
        )}
      </dl>
      <form className="form" onSubmit={save} noValidate>
        <Field label="Stock on hand" error={problem} hint="Reserved items are held for open orders.">
          {(props) => (
            <input
              {...props}
              type="number"
              min={0}
              step={1}
              inputMode="numeric"
              value={value}
              onChange={(e) => setTyped(e.target.value)}
            />
          )}
        </Field>
        {outcome && (
          <p className="notice-line" role="status">
            {outcome}
          </p>
        )}
        {failure !== null && <ErrorNote error={failure} />}
        <button type="submit" disabled={saving} aria-busy={saving}>
          Save stock
        </button>
      </form>
    </>
  );
}

/** Whether shoppers can see the product, and the button that hides it. */
export function VisibilitySection({ productId }: { productId: string }) {
  const queries = useQueryClient();
  const visibility = useVisibility(productId);
  const [failure, setFailure] = useState<unknown>(null);
  const [hiding, setHiding] = useState(false);

  async function hide() {
    setFailure(null);
    setHiding(true);
    try {
      await hideProduct(productId);
      queries.setQueryData(merchantKeys.visibility(productId), 'hidden');
      void queries.invalidateQueries({ queryKey: merchantKeys.allProducts });
    } catch (err) {
      setFailure(err);
    } finally {
      setHiding(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="visibility-heading">
      <h2 id="visibility-heading">Visibility</h2>
      {visibility.data === 'hidden' ? (
        <p className="notice-line" role="status">
          This product is hidden from shoppers.
        </p>
      ) : (
        <>
          {visibility.isPending && <Loading label="Checking whether shoppers can see it…" />}
          {visibility.data === 'visible' && <p>Shoppers can find and buy this product.</p>}
          {visibility.error && <ErrorNote error={visibility.error} retry={() => void visibility.refetch()} />}
          <p className="muted fine-print">
            Hiding takes it out of browsing and search for good; orders that hold it keep it.
          </p>
          <button type="button" className="danger" onClick={hide} disabled={hiding} aria-busy={hiding}>
            Hide product
          </button>
        </>
      )}
      {failure !== null && <ErrorNote error={failure} />}
    </section>
  );
}
