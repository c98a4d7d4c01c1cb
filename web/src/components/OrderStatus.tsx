/** How an order's state is shown: a coloured badge and a sentence saying what happened. */
import type { Order, OrderStatus } from '@bazaar/contracts';

const LABELS: Record<OrderStatus, string> = {
  PENDING: 'Pending',
  CONFIRMED: 'Confirmed',
  CANCELLED: 'Cancelled',
};

/** The status as a badge (`status status-<STATUS>`). */
export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`status status-${status}`}>{LABELS[status]}</span>;
}

/** A sentence telling the shopper where their order stands and, if cancelled, why. */
export function orderStatusSentence(order: Pick<Order, 'status' | 'cancelReason' | 'declineCode'>): string {
  switch (order.status) {
    case 'PENDING':
      return 'We are placing your order…';
    case 'CONFIRMED':
      return 'Your order is confirmed.';
    case 'CANCELLED':
      return `This order was cancelled: ${cancelReasonText(order)}.`;
  }
}

function cancelReasonText({
  cancelReason,
  declineCode,
}: Pick<Order, 'cancelReason' | 'declineCode'>): string {
  switch (cancelReason) {
    case 'PAYMENT_DECLINED':
      if (declineCode === 'card_declined') return 'your card was declined';
      if (declineCode === 'insufficient_funds') return 'your card has insufficient funds';
      return 'your payment was declined';
    case 'OUT_OF_STOCK':
      return 'some items were out of stock';
    case 'PRODUCT_UNAVAILABLE':
      return 'a product is no longer available';
    case 'PAYMENT_UNAVAILABLE':
      return 'we could not reach the payment provider';
    case 'RESERVATION_EXPIRED':
      return 'the items were held too long';
    case 'CUSTOMER_CANCELLED':
      return 'you cancelled it';
    default:
      return 'the reason is not known';
  }
}

/** The short form of an order id shown to people ("Order 1a2b3c4d"). */
export function orderName(id: string): string {
  return `Order ${id.slice(0, 8)}`;
}
