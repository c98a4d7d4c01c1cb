-- Inventory: stock per product, reservations of orders, the ledger of every movement, and the
-- owners of products learnt from catalog. Runs on PostgreSQL 15 and 18.
-- Product and order ids are text: inventory takes them as other services give them (catalog's are
-- UUIDs in lower case) and must answer an unknown id without a cast error.

-- One row per product that ever had stock. onHand = available + reserved; `sold` is net of returns.
-- Every movement adds one to `revision` (the `inventory.stock-changed` event carries it).
CREATE TABLE stock (
  product_id text PRIMARY KEY CHECK (length(product_id) BETWEEN 1 AND 64),
  available  integer NOT NULL DEFAULT 0 CHECK (available >= 0),
  reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold       integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  revision   bigint NOT NULL DEFAULT 0,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

-- One row per order that asked for stock, or whose release came first (a RELEASED tombstone
-- without lines, so a late reserve of that order holds nothing).
CREATE TABLE reservations (
  order_id   text PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 64),
  status     text NOT NULL
             CHECK (status IN ('RESERVED', 'REJECTED', 'COMMITTED', 'RELEASED', 'EXPIRED', 'RETURNED')),
  -- Set while the reservation holds (RESERVED) and kept afterwards; null for REJECTED and tombstones.
  expires_at timestamptz(3),
  -- REJECTED only: why, and the first short product (in product-id order).
  reason     text CHECK (reason IN ('OUT_OF_STOCK')),
  product_id text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CHECK (status <> 'RESERVED' OR expires_at IS NOT NULL)
);

-- The expiry job's scan: only reservations that still hold stock.
CREATE INDEX reservations_due_idx ON reservations (expires_at) WHERE status = 'RESERVED';

-- What a reservation holds, one row per product (repeated lines of a request are summed).
CREATE TABLE reservation_lines (
  order_id   text NOT NULL REFERENCES reservations (order_id),
  product_id text NOT NULL,
  quantity   integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);

-- Every movement of stock, written in the transaction that changes the stock row.
--   adjustment: a merchant set the stock; quantity is the signed difference of onHand (no order).
--   reserve, release, expire, commit, return: quantity > 0, with the order.
-- Per product: available = Σadjustment − Σreserve + Σrelease + Σexpire + Σreturn,
--   reserved = Σreserve − Σrelease − Σexpire − Σcommit, sold = Σcommit − Σreturn,
--   hence Σadjustment = available + reserved + sold.
CREATE TABLE stock_ledger (
  id          bigserial PRIMARY KEY,
  product_id  text NOT NULL,
  order_id    text,
  kind        text NOT NULL CHECK (kind IN ('adjustment', 'reserve', 'release', 'expire', 'commit', 'return')),
  quantity    integer NOT NULL,
  -- The stock row's revision after this movement.
  revision    bigint NOT NULL,
  occurred_at timestamptz(3) NOT NULL DEFAULT now(),
  CHECK ((kind = 'adjustment') = (order_id IS NULL)),
  CHECK (kind = 'adjustment' OR quantity > 0)
);
CREATE INDEX stock_ledger_product_idx ON stock_ledger (product_id, id);
-- Each step of an order moves each product once at most (exactly-once compensation, I5/I7).
CREATE UNIQUE INDEX stock_ledger_order_step_idx ON stock_ledger (order_id, product_id, kind)
  WHERE order_id IS NOT NULL;

-- Who owns each product, from `catalog.product-changed` events or a lookup at catalog. `as_of` is
-- the event's occurredAt (or the lookup's time): an older event never overwrites a newer owner.
CREATE TABLE product_owners (
  product_id  text PRIMARY KEY,
  merchant_id text NOT NULL,
  as_of       timestamptz(3) NOT NULL
);
