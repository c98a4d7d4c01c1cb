/**
 * The product form of the editor, for a new product and for an existing one: name, description,
 * price in major units, category, and (for a new product) its first stock count. Checks what it
 * can before sending and shows the API's field errors next to their fields.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Field } from '../../components/Field.tsx';
import { ErrorNote } from '../../components/ui.tsx';
import { fieldErrors } from '../../lib/api.ts';
import { formatPriceInput, parsePrice, parseStock, useCategories } from '../../lib/merchant.ts';

/** The highest price the API takes, in minor units (NewProduct). */
const MAX_PRICE = 100_000_000;

/** What the form hands over once every field reads well. */
export interface ProductValues {
  name: string;
  description: string;
  /** Integer minor units. */
  price: number;
  category: string;
  /** Only when the form asks for stock. */
  onHand?: number;
}

/** The fields as typed. */
export interface ProductDraft {
  name: string;
  description: string;
  price: string;
  category: string;
}

type FieldName = keyof ProductDraft | 'onHand';
type Problems = Partial<Record<FieldName, string>>;

/** The product's fields with a "Save product" button; `withStock` adds "Stock on hand" (new products). */
export function ProductForm({
  initial,
  currency,
  digits,
  withStock,
  onSubmit,
}: {
  initial: ProductDraft;
  /** The store's currency, when known (for the price hint). */
  currency: string | null;
  /** Decimals of the store's currency. */
  digits: number;
  withStock: boolean;
  /** Saves; a thrown error's field problems are shown by their fields, anything else above the button. */
  onSubmit: (values: ProductValues) => Promise<void>;
}) {
  const [draft, setDraft] = useState(initial);
  const [stock, setStock] = useState('0');
  const [problems, setProblems] = useState<Problems>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  // Take keyboard and screen-reader users to the first field that needs fixing.
  useEffect(() => {
    if (Object.keys(problems).length > 0)
      form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [problems]);

  const edit = (field: keyof ProductDraft) => (value: string) => setDraft((d) => ({ ...d, [field]: value }));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const read = readValues(draft, withStock ? stock : null, digits);
    setFailure(null);
    if (!read.ok) {
      setProblems(read.problems);
      return;
    }
    setProblems({});
    setSaving(true);
    try {
      await onSubmit(read.values);
    } catch (err) {
      const fields = fieldErrors(err);
      setProblems(fields);
      // A problem no field here shows (or none named) is told above the button.
      const shown: string[] = ['name', 'description', 'price', 'category', ...(withStock ? ['onHand'] : [])];
      const keys = Object.keys(fields);
      if (keys.length === 0 || keys.some((k) => !shown.includes(k))) setFailure(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form ref={form} className="form product-form" onSubmit={submit} noValidate>
      <Field label="Name" error={problems.name}>
        {(props) => (
          <input
            {...props}
            value={draft.name}
            onChange={(e) => edit('name')(e.target.value)}
            maxLength={200}
            required
            autoComplete="off"
          />
        )}
      </Field>
      <Field label="Description" error={problems.description}>
        {(props) => (
          <textarea
            {...props}
            value={draft.description}
            onChange={(e) => edit('description')(e.target.value)}
            maxLength={5000}
            rows={5}
          />
        )}
      </Field>
      <Field
        label="Price"
        error={problems.price}
        hint={`${currency ? `In ${currency}, ` : ''}${digits > 0 ? 'for example 12.50' : 'a whole amount, for example 1250'}.`}
      >
        {(props) => (
          <input
            {...props}
            value={draft.price}
            onChange={(e) => edit('price')(e.target.value)}
            inputMode={digits > 0 ? 'decimal' : 'numeric'}
            autoComplete="off"
            required
          />
        )}
      </Field>
      <CategoryField value={draft.category} onChange={edit('category')} error={problems.category} />
      {withStock && (
        <Field label="Stock on hand" error={problems.onHand} hint="How many you have to sell now.">
          {(props) => (
            <input
              {...props}
              type="number"
              min={0}
              step={1}
              inputMode="numeric"
              value={stock}
              onChange={(e) => setStock(e.target.value)}
            />
          )}
        </Field>
      )}
      {failure !== null && <ErrorNote error={failure} />}
      <button type="submit" disabled={saving} aria-busy={saving}>
        Save product
      </button>
    </form>
  );
}

function CategoryField({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (slug: string) => void;
  error: string | undefined;
}) {
  const categories = useCategories();
  const items = categories.data?.items ?? [];
  const known = value === '' || items.some((c) => c.slug === value);
  return (
    <>
      <Field label="Category" error={error}>
        {(props) => (
          <select
            {...props}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            required
            disabled={categories.isPending}
          >
            <option value="">{categories.isPending ? 'Loading categories…' : 'Choose a category'}</option>
            {!known && <option value={value}>{value}</option>}
            {items.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      {categories.error && <ErrorNote error={categories.error} retry={() => void categories.refetch()} />}
    </>
  );
}

type ReadValues = { ok: true; values: ProductValues } | { ok: false; problems: Problems };

/** The draft as values the API takes, or what is wrong with it. */
function readValues(draft: ProductDraft, stock: string | null, digits: number): ReadValues {
  const problems: Problems = {};
  const name = draft.name.trim();
  if (!name) problems.name = 'enter a name';
  const price = parsePrice(draft.price, digits);
  if (!price.ok) problems.price = price.message;
  else if (price.minor > MAX_PRICE) problems.price = `must be at most ${formatPriceInput(MAX_PRICE, digits)}`;
  if (!draft.category) problems.category = 'choose a category';
  const onHand = stock === null ? undefined : parseStock(stock);
  if (onHand === null) problems.onHand = 'enter a whole number from 0 up';
  if (!price.ok || onHand === null || Object.keys(problems).length > 0) return { ok: false, problems };
  const values: ProductValues = {
    name,
    description: draft.description,
    price: price.minor,
    category: draft.category,
  };
  if (onHand !== undefined) values.onHand = onHand;
  return { ok: true, values };
}
