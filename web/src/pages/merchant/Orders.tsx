/** `/merchant/orders`: orders that hold the merchant's products, each showing only their lines. */
import type { Order } from '@bazaar/contracts';
import { Link } from 'react-router';
import { Empty, ErrorNote, Money, PageTitle, QueryState } from '../../components/ui.tsx';
import { linesTotal, useMerchantOrders } from '../../lib/merchant.ts';
import { LoadMore } from './LoadMore.tsx';

/** The merchant's orders page (lazy-loaded by App). */
export default function MerchantOrdersPage() {
  const orders = useMerchantOrders();
  return (
    <section className="console">
      <PageTitle>Orders with my products</PageTitle>
      <p>
        <Link to="/merchant">Back to my products</Link>
      </p>
      <QueryState query={orders} loadingLabel="Loading orders…">
        {(data) => {
          const items = data.pages.flatMap((page) => page.items);
          if (items.length === 0) return <Empty>No orders contain your products yet.</Empty>;
          return (
            <>
              <div className="table-wrap">
                <table className="merchant-orders">
                  <caption className="visually-hidden">Orders with your products</caption>
                  <thead>
                    <tr>
                      <th scope="col">Order</th>
                      <th scope="col">Date</th>
                      <th scope="col">Status</th>
                      <th scope="col">Items</th>
                      <th scope="col" className="num">
                        Total of my lines
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((order) => (
                      <OrderRow key={order.id} order={order} />
                    ))}
                  </tbody>
                </table>
              </div>
              {orders.isFetchNextPageError && (
                <ErrorNote error={orders.error} retry={() => orders.fetchNextPage()} />
              )}
              {orders.hasNextPage && (
                <LoadMore loading={orders.isFetchingNextPage} onClick={() => orders.fetchNextPage()} />
              )}
            </>
          );
        }}
      </QueryState>
    </section>
  );
}

function OrderRow({ order }: { order: Order }) {
  return (
    <tr>
      <th scope="row">
        <code title={order.id}>{order.id.slice(0, 8)}</code>
      </th>
      <td>
        <time dateTime={order.createdAt}>
          {new Date(order.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
        </time>
      </td>
      <td>
        <span className={`status status-${order.status}`}>{statusWord(order.status)}</span>
      </td>
      <td>
        <ul className="plain-list">
          {order.items.map((line) => (
            <li key={line.productId}>
              {line.quantity} × {line.name}
            </li>
          ))}
        </ul>
      </td>
      <td className="num">
        <Money amount={linesTotal(order)} currency={order.currency} />
      </td>
    </tr>
  );
}

/** `CONFIRMED` → "Confirmed". */
function statusWord(status: Order['status']): string {
  return status.charAt(0) + status.slice(1).toLowerCase();
}
