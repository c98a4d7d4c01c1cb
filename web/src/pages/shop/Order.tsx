/** One order: where it stands (followed live while it is being placed), its lines and address. */
import type { Order } from '@bazaar/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { OrderStatusBadge, orderName, orderStatusSentence } from '../../components/OrderStatus.tsx';
import { ErrorNote, Loading, Money, PageTitle } from '../../components/ui.tsx';
import { ApiError } from '../../lib/api.ts';
import { CART_KEY, useCancelOrder, useOrder } from '../../lib/shop.ts';

/** `/orders/:id` (the owner or an admin). */
export function OrderPage() {
  const { id = '' } = useParams();
  const [cancelling, setCancelling] = useState(false);
  const order = useOrder(id, cancelling);
  const status = order.data?.status;
  const queries = useQueryClient();

  // The cart empties by itself once the order is confirmed: show that wherever the cart appears.
  useEffect(() => {
    if (status === 'CONFIRMED') void queries.invalidateQueries({ queryKey: CART_KEY });
  }, [status, queries]);

  if (order.isPending) return <Loading label="Loading your order…" />;
  if (order.error) {
    const missing = order.error instanceof ApiError && order.error.status === 404;
    return (
      <>
        <PageTitle>{missing ? 'Order not found' : orderName(id)}</PageTitle>
        <ErrorNote error={order.error} retry={missing ? undefined : () => void order.refetch()} />
        <p>
          <Link to="/orders">Back to your orders</Link>
        </p>
      </>
    );
  }
  return (
    <OrderDetails order={order.data} cancelling={cancelling} onCancelRequested={() => setCancelling(true)} />
  );
}

function OrderDetails({
  order,
  cancelling,
  onCancelRequested,
}: {
  order: Order;
  /** A cancellation was accepted and is still being carried out. */
  cancelling: boolean;
  onCancelRequested: () => void;
}) {
  const created = new Date(order.createdAt);
  const updated = new Date(order.updatedAt);
  return (
    <>
      <div className="order-heading">
        <PageTitle>{orderName(order.id)}</PageTitle>
        <OrderStatusBadge status={order.status} />
      </div>
      <p role="status" aria-live="polite" className={`order-sentence order-sentence-${order.status}`}>
        {orderStatusSentence(order)}
      </p>
      {order.status !== 'CANCELLED' &&
        (cancelling ? (
          <p className="muted">We are cancelling your order…</p>
        ) : (
          <CancelOrder orderId={order.id} onRequested={onCancelRequested} />
        ))}
      <dl className="order-facts">
        <div>
          <dt>Placed</dt>
          <dd>
            <time dateTime={order.createdAt}>{created.toLocaleString()}</time>
          </dd>
        </div>
        <div>
          <dt>Last changed</dt>
          <dd>
            <time dateTime={order.updatedAt}>{updated.toLocaleString()}</time>
          </dd>
        </div>
      </dl>
      <h2>Items</h2>
      <div className="table-wrap">
        <table className="order-lines">
          <caption className="visually-hidden">Items in this order</caption>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col" className="num">
                Price
              </th>
              <th scope="col" className="num">
                Quantity
              </th>
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {order.items.map((line) => (
              <tr key={line.productId}>
                <td>
                  <Link to={`/p/${line.productId}`}>{line.name}</Link>
                </td>
                <td className="num">
                  <Money amount={line.price} currency={order.currency} />
                </td>
                <td className="num">{line.quantity}</td>
                <td className="num">
                  <Money amount={line.lineTotal} currency={order.currency} />
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                Total
              </th>
              <td className="num order-total">
                <Money amount={order.total} currency={order.currency} />
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <h2>Shipping address</h2>
      <address className="shipping-address">
        {order.shippingAddress.name}
        <br />
        {order.shippingAddress.line1}
        {order.shippingAddress.line2 && (
          <>
            <br />
            {order.shippingAddress.line2}
          </>
        )}
        <br />
        {order.shippingAddress.postalCode} {order.shippingAddress.city}
        <br />
        {countryName(order.shippingAddress.country)}
      </address>
      <p>
        <Link to="/orders">All your orders</Link>
      </p>
    </>
  );
}

/** "Cancel order", asking once more before it does. */
function CancelOrder({ orderId, onRequested }: { orderId: string; onRequested: () => void }) {
  const [asking, setAsking] = useState(false);
  const cancel = useCancelOrder(orderId);
  const keepButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) keepButton.current?.focus();
  }, [asking]);

  const close = () => {
    setAsking(false);
    // Put focus back where it was before the question, once the button is there again.
    requestAnimationFrame(() => cancelButton.current?.focus());
  };

  if (!asking)
    return (
      <p className="order-actions">
        <button ref={cancelButton} type="button" className="secondary" onClick={() => setAsking(true)}>
          Cancel order
        </button>
      </p>
    );
  return (
    <fieldset className="confirm">
      <legend>Cancel this order?</legend>
      <p>Your payment is voided or refunded, the items go back on the shelf, and nothing is sent.</p>
      {cancel.error && <ErrorNote error={cancel.error} />}
      <p className="confirm-buttons">
        <button
          type="button"
          className="danger"
          disabled={cancel.isPending}
          onClick={() => cancel.mutate(undefined, { onSuccess: onRequested })}
        >
          Yes, cancel this order
        </button>
        <button
          ref={keepButton}
          type="button"
          className="secondary"
          onClick={close}
          disabled={cancel.isPending}
        >
          Keep order
        </button>
      </p>
    </fieldset>
  );
}

const countryNames = new Intl.DisplayNames(undefined, { type: 'region' });

/** A country's name in the browser's language, or its code if the browser does not know it. */
function countryName(code: string): string {
  try {
    return countryNames.of(code) ?? code;
  } catch {
    return code;
  }
}
