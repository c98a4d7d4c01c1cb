-- Cart: one cart per customer, its lines as the customer set them (no prices: those are read from
-- catalog when the cart is shown). Runs on PostgreSQL 15 and 18.

-- One row per customer who has a cart; its row lock serializes changes to that cart, so the
-- 100-line limit holds under concurrent requests.
CREATE TABLE carts (
  customer_id text PRIMARY KEY CHECK (length(customer_id) BETWEEN 1 AND 64),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart_lines (
  customer_id text NOT NULL REFERENCES carts (customer_id) ON DELETE CASCADE,
  product_id  text NOT NULL CHECK (length(product_id) BETWEEN 1 AND 64),
  quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  -- Lines are shown in the order they were first added; changing a quantity keeps the place.
  added_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (customer_id, product_id)
);
