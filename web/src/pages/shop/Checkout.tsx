/**
 * Checkout: the order summary, a test card and the shipping address, then "Place order".
 * Each attempt carries an Idempotency-Key. It is kept when the shopper presses again after an
 * answer that leaves the outcome open (no answer, a 5xx, the first request still running), so a
 * retry can never order twice; a definite refusal or a change to what is sent starts a new one.
 */
import type { Address, Cart, Order } from '@bazaar/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useId, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Empty, ErrorNote, Money, PageTitle, QueryState } from '../../components/ui.tsx';
import { ApiError, fieldErrors, newKey } from '../../lib/api.ts';
import { useAuth } from '../../lib/auth.tsx';
import { CART_KEY, type CheckoutRequest, placeOrder, useCart, useRememberOrder } from '../../lib/shop.ts';

/** The simulated provider's test cards (CONTRACT "Checkout"). */
const CARDS = [
  { token: 'tok_visa', label: 'Visa — succeeds' },
  { token: 'tok_chargeDeclined', label: 'Card that is declined' },
  { token: 'tok_insufficientFunds', label: 'Card with insufficient funds' },
] as const;

/** A short list of ISO 3166-1 alpha-2 countries to ship to. */
const COUNTRIES = [
  ['US', 'United States'],
  ['CA', 'Canada'],
  ['MX', 'Mexico'],
  ['GB', 'United Kingdom'],
  ['IE', 'Ireland'],
  ['FR', 'France'],
  ['DE', 'Germany'],
  ['NL', 'Netherlands'],
  ['BE', 'Belgium'],
  ['ES', 'Spain'],
  ['IT', 'Italy'],
  ['SE', 'Sweden'],
  ['PL', 'Poland'],
  ['CH', 'Switzerland'],
  ['JP', 'Japan'],
  ['IN', 'India'],
  ['BR', 'Brazil'],
  ['AU', 'Australia'],
  ['NZ', 'New Zealand'],
] as const;

type AddressForm = Required<Address>;
type AddressField = keyof AddressForm;

/** The address fields in form order, with their labels, autocomplete hints and limits. */
const ADDRESS_FIELDS: { name: Exclude<AddressField, 'country'>; label: string; auto: string; max: number }[] =
  [
    { name: 'name', label: 'Full name', auto: 'shipping name', max: 200 },
    { name: 'line1', label: 'Address', auto: 'shipping address-line1', max: 200 },
    { name: 'line2', label: 'Address line 2 (optional)', auto: 'shipping address-line2', max: 200 },
    { name: 'city', label: 'City', auto: 'shipping address-level2', max: 100 },
    { name: 'postalCode', label: 'Postal code', auto: 'shipping postal-code', max: 20 },
  ];

/** What a shopper is told when they leave a required field empty. */
const REQUIRED: Partial<Record<AddressField, string>> = {
  name: 'Enter the name of the person receiving the order.',
  line1: 'Enter the street address.',
  city: 'Enter the city.',
  postalCode: 'Enter the postal code.',
};

/** `/checkout` (customers): place an order of the whole cart. */
export function CheckoutPage() {
  const cart = useCart();
  return (
    <>
      <PageTitle>Checkout</PageTitle>
      <QueryState query={cart} loadingLabel="Loading your cart…">
        {(data) =>
          data.items.length === 0 ? (
            <>
              <Empty>Your cart is empty, so there is nothing to check out.</Empty>
              <p>
                <Link to="/">Browse products</Link>
              </p>
            </>
          ) : (
            <div className="two-columns checkout">
              <CheckoutForm cart={data} />
              <Summary cart={data} />
            </div>
          )
        }
      </QueryState>
    </>
  );
}

function Summary({ cart }: { cart: Cart }) {
  return (
    <section className="order-summary" aria-labelledby="checkout-summary">
      <h2 id="checkout-summary">Order summary</h2>
      <ul className="summary-lines">
        {cart.items.map((line) => (
          <li key={line.productId}>
            <span>
              {line.quantity} × {line.name}
            </span>
            <Money amount={line.lineTotal} currency={cart.currency} />
          </li>
        ))}
      </ul>
      <p className="summary-total">
        <span>Total</span> <Money amount={cart.total} currency={cart.currency} />
      </p>
      <p>
        <Link to="/cart">Change your cart</Link>
      </p>
    </section>
  );
}

/** Whether the outcome of a failed checkout is unknown, so the same key must be used again. */
function outcomeOpen(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.status === 0 || err.status >= 500 || err.code === 'IDEMPOTENCY_KEY_IN_USE';
}

function CheckoutForm({ cart }: { cart: Cart }) {
  const { user } = useAuth();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const rememberOrder = useRememberOrder();
  const formId = useId();
  const [card, setCard] = useState<string>(CARDS[0].token);
  const [address, setAddress] = useState<AddressForm>({
    name: user?.name ?? '',
    line1: '',
    line2: '',
    city: '',
    postalCode: '',
    country: 'US',
  });
  const [missing, setMissing] = useState<Partial<Record<AddressField, string>>>({});
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  // The key of the last attempt and the body it was sent with.
  const attempt = useRef<{ key: string; body: string } | null>(null);

  const request = (): CheckoutRequest => {
    const { line2, ...required } = address;
    const shippingAddress: Address = {
      ...required,
      name: required.name.trim(),
      line1: required.line1.trim(),
      city: required.city.trim(),
      postalCode: required.postalCode.trim(),
      ...(line2.trim() ? { line2: line2.trim() } : {}),
    };
    return { paymentToken: card, shippingAddress, expectedTotal: cart.total };
  };

  const keyFor = (body: string): string => {
    if (attempt.current?.body !== body) attempt.current = { key: newKey(), body };
    return attempt.current.key;
  };

  const settled = (order: Order) => {
    rememberOrder(order);
    navigate(`/orders/${order.id}`);
  };

  const failed = (err: unknown) => {
    setError(err);
    if (outcomeOpen(err)) return;
    attempt.current = null;
    if (err instanceof ApiError && (err.code === 'PRICE_CHANGED' || err.code === 'CART_EMPTY'))
      void queries.invalidateQueries({ queryKey: CART_KEY });
  };

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (sending) return;
    const empty = validate(address);
    setMissing(empty);
    const first = Object.keys(empty)[0];
    if (first) {
      document.getElementById(`${formId}-${first}`)?.focus();
      return;
    }
    const body = request();
    const key = keyFor(JSON.stringify(body));
    setSending(true);
    setError(null);
    try {
      settled(await placeOrder(body, key));
    } catch (err) {
      failed(err);
    } finally {
      setSending(false);
    }
  };

  const serverFields = fieldErrors(error);
  const fieldError = (name: AddressField) => missing[name] ?? serverFields[name];
  const update = (name: AddressField, value: string) => setAddress((a) => ({ ...a, [name]: value }));

  return (
    <form className="form checkout-form" onSubmit={onSubmit} noValidate aria-labelledby="checkout-form">
      <h2 id="checkout-form" className="visually-hidden">
        Payment and shipping
      </h2>
      <fieldset>
        <legend>Payment card</legend>
        <p className="muted hint">This shop takes no real money: choose how the test payment goes.</p>
        {CARDS.map((c) => (
          <div className="radio" key={c.token}>
            <input
              type="radio"
              id={`${formId}-card-${c.token}`}
              name="paymentToken"
              value={c.token}
              checked={card === c.token}
              onChange={() => setCard(c.token)}
            />
            <label htmlFor={`${formId}-card-${c.token}`}>{c.label}</label>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>Shipping address</legend>
        {ADDRESS_FIELDS.map((f) => (
          <Field key={f.name} id={`${formId}-${f.name}`} label={f.label} error={fieldError(f.name)}>
            {(described) => (
              <input
                id={`${formId}-${f.name}`}
                name={f.name}
                autoComplete={f.auto}
                maxLength={f.max}
                value={address[f.name]}
                onChange={(event) => update(f.name, event.target.value)}
                aria-required={f.name in REQUIRED || undefined}
                {...described}
              />
            )}
          </Field>
        ))}
        <Field id={`${formId}-country`} label="Country" error={fieldError('country')}>
          {(described) => (
            <select
              id={`${formId}-country`}
              name="country"
              autoComplete="shipping country"
              value={address.country}
              onChange={(event) => update('country', event.target.value)}
              {...described}
            >
              {COUNTRIES.map(([code, name]) => (
                <option key={code} value={code}>
                  {name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </fieldset>
      {error !== null && <CheckoutError error={error} />}
      <p className="place-order">
        <button type="submit" disabled={sending}>
          Place order
        </button>{' '}
        <span className="muted">
          You pay <Money amount={cart.total} currency={cart.currency} />.
        </span>
      </p>
      <p role="status" className="muted">
        {sending ? 'Placing your order…' : ''}
      </p>
    </form>
  );
}

function CheckoutError({ error }: { error: unknown }) {
  const inProgress = error instanceof ApiError && error.code === 'CHECKOUT_IN_PROGRESS';
  return (
    <>
      <ErrorNote error={error} />
      {inProgress && (
        <p>
          <Link to="/orders">See your orders</Link>
        </p>
      )}
    </>
  );
}

/** One labelled control with its error below it, tied together by `aria-describedby`. */
function Field({
  id,
  label,
  error,
  children,
}: {
  id: string;
  label: string;
  error: string | undefined;
  children: (described: { 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}) {
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(error ? { 'aria-invalid': true, 'aria-describedby': errorId } : {})}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The required fields left empty, with what to tell the shopper. */
function validate(address: AddressForm): Partial<Record<AddressField, string>> {
  const out: Partial<Record<AddressField, string>> = {};
  for (const [name, message] of Object.entries(REQUIRED) as [AddressField, string][])
    if (!address[name].trim()) out[name] = message;
  return out;
}
