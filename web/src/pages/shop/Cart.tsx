/** The shopper's cart: change quantities, remove lines, go to checkout. */
import type { Cart, CartLine } from '@bazaar/contracts';
import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Empty, ErrorNote, Money, PageTitle, QueryState } from '../../components/ui.tsx';
import { useAuth } from '../../lib/auth.tsx';
import { MAX_LINE_QUANTITY, useCart, useCartChange } from '../../lib/shop.ts';

/** How long a typed quantity waits before it is sent, in case the shopper types another digit. */
const QUANTITY_DEBOUNCE_MS = 500;

/** `/cart`: the cart for customers, a prompt to log in for visitors. */
export function CartPage() {
  const { user, ready } = useAuth();
  const isCustomer = user?.role === 'customer';
  const cart = useCart(isCustomer);
  return (
    <>
      <PageTitle>Your cart</PageTitle>
      {!ready ? null : !user ? (
        <p className="notice">
          Your cart is kept with your account. <Link to="/login?next=/cart">Log in</Link> to see it and shop.
        </p>
      ) : !isCustomer ? (
        <p className="notice">Carts belong to customer accounts. You are signed in as a {user.role}.</p>
      ) : (
        <QueryState query={cart} loadingLabel="Loading your cart…">
          {(data) => <CartContents cart={data} />}
        </QueryState>
      )}
    </>
  );
}

function CartContents({ cart }: { cart: Cart }) {
  const change = useCartChange();
  if (cart.items.length === 0)
    return (
      <>
        <Empty>Your cart is empty.</Empty>
        <p>
          <Link to="/">Browse products</Link>
        </p>
      </>
    );
  const setQuantity = (productId: string, quantity: number) => change.mutate({ productId, quantity });
  return (
    <>
      {change.error && <ErrorNote error={change.error} />}
      <div className="table-wrap cart-wrap">
        <table className="cart-table">
          <caption className="visually-hidden">Items in your cart</caption>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col" className="num">
                Price
              </th>
              <th scope="col">Quantity</th>
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {cart.items.map((line) => (
              <CartRow key={line.productId} line={line} currency={cart.currency} onQuantity={setQuantity} />
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                Total
              </th>
              <td className="num cart-total">
                <Money amount={cart.total} currency={cart.currency} />
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <p className="cart-actions">
        <Link className="button" to="/checkout">
          Check out
        </Link>
        <Link to="/">Continue shopping</Link>
      </p>
    </>
  );
}

function CartRow({
  line,
  currency,
  onQuantity,
}: {
  line: CartLine;
  currency: string;
  onQuantity: (productId: string, quantity: number) => void;
}) {
  const inputId = useId();
  const errorId = useId();
  const [text, setText] = useState(String(line.quantity));
  const [shown, setShown] = useState(line.quantity);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // When the server's quantity changes (an answer, another tab), show it.
  if (line.quantity !== shown) {
    setShown(line.quantity);
    setText(String(line.quantity));
  }

  useEffect(() => () => clearTimeout(timer.current), []);

  const parsed = Number(text);
  const valid = text.trim() !== '' && Number.isInteger(parsed) && parsed >= 0 && parsed <= MAX_LINE_QUANTITY;

  const send = (value: string) => {
    clearTimeout(timer.current);
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= MAX_LINE_QUANTITY;
    if (ok && n !== line.quantity) onQuantity(line.productId, n);
  };

  return (
    <tr>
      <td>
        <Link to={`/p/${line.productId}`}>{line.name}</Link>
        <br />
        <button
          type="button"
          className="link-button remove-line"
          onClick={() => onQuantity(line.productId, 0)}
        >
          Remove <span className="visually-hidden">{line.name}</span>
        </button>
      </td>
      <td className="num">
        <Money amount={line.price} currency={currency} />
      </td>
      <td>
        <label htmlFor={inputId} className="visually-hidden">
          Quantity of {line.name}
        </label>
        <input
          id={inputId}
          className="quantity"
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_LINE_QUANTITY}
          step={1}
          value={text}
          onChange={(event) => {
            const value = event.target.value;
            setText(value);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => send(value), QUANTITY_DEBOUNCE_MS);
          }}
          onBlur={() => send(text)}
          aria-invalid={!valid || undefined}
          aria-describedby={valid ? undefined : errorId}
        />
        {!valid && (
          <p id={errorId} className="field-error">
            Enter 0 to {MAX_LINE_QUANTITY}.
          </p>
        )}
      </td>
      <td className="num">
        <Money amount={line.lineTotal} currency={currency} />
      </td>
    </tr>
  );
}
