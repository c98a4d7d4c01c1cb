/** The shopper's orders (every order for admins), newest first. */
import { Link } from 'react-router';
import { OrderStatusBadge, orderName } from '../../components/OrderStatus.tsx';
import { Empty, ErrorNote, Money, PageTitle, QueryState } from '../../components/ui.tsx';
import { useAuth } from '../../lib/auth.tsx';
import { useOrders } from '../../lib/shop.ts';

/** Dates in the list are short, so the table fits a phone. */
const SHORT_DATE: Intl.DateTimeFormatOptions = { dateStyle: 'short', timeStyle: 'short' };

/** `/orders` (customers and admins). */
export function OrdersPage() {
  const { hasRole } = useAuth();
  const orders = useOrders();
  return (
    <>
      <PageTitle>{hasRole('admin') ? 'All orders' : 'Your orders'}</PageTitle>
      <QueryState query={orders} loadingLabel="Loading orders…">
        {(data) => {
          const items = data.pages.flatMap((page) => page.items);
          if (items.length === 0)
            return (
              <>
                <Empty>You have no orders yet.</Empty>
                <p>
                  <Link to="/">Start shopping</Link>
                </p>
              </>
            );
          return (
            <>
              <div className="table-wrap">
                <table className="orders-table">
                  <caption className="visually-hidden">Orders, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Order</th>
                      <th scope="col">Date</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="num">
                        Total
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((order) => (
                      <tr key={order.id}>
                        <td>
                          <Link to={`/orders/${order.id}`}>{orderName(order.id)}</Link>
                        </td>
                        <td>
                          <time dateTime={order.createdAt}>
                            {new Date(order.createdAt).toLocaleString(undefined, SHORT_DATE)}
                          </time>
                        </td>
                        <td>
                          <OrderStatusBadge status={order.status} />
                        </td>
                        <td className="num">
                          <Money amount={order.total} currency={order.currency} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {orders.isFetchNextPageError && <ErrorNote error={orders.error} />}
              {orders.hasNextPage && (
                <p className="pager">
                  <button
                    type="button"
                    className="secondary"
                    disabled={orders.isFetchingNextPage}
                    onClick={() => void orders.fetchNextPage()}
                  >
                    Load more
                  </button>
                </p>
              )}
            </>
          );
        }}
      </QueryState>
    </>
  );
}
