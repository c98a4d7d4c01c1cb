-- Orders: the orders, their lines, the checkout saga's persisted state and the checkout
-- idempotency keys. Runs on PostgreSQL 15 and 18.

CREATE TABLE orders (
  id               uuid PRIMARY KEY,
  customer_id      text NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 64),
  status           text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
  -- bigint: a hundred lines of 99 at a large price overflow an integer.
  total            bigint NOT NULL CHECK (total >= 0),
  currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  shipping_address jsonb NOT NULL,
  cancel_reason    text CHECK (cancel_reason IN ('OUT_OF_STOCK', 'PRODUCT_UNAVAILABLE', 'PAYMENT_DECLINED',
                                                 'PAYMENT_UNAVAILABLE', 'RESERVATION_EXPIRED', 'CUSTOMER_CANCELLED')),
  decline_code     text CHECK (decline_code IN ('card_declined', 'insufficient_funds')),
  -- The customer's card token: the authorization step needs it again after a crash; cleared as
  -- soon as the saga is past that step.
  payment_token    text,

  -- The saga. `saga_step` is the next call to make (DONE: none); `saga_stock` and `saga_payment`
  -- say what inventory and payments may hold for this order, hence what compensation must undo.
  saga_step        text NOT NULL CHECK (saga_step IN ('RESERVING', 'AUTHORIZING', 'COMMITTING', 'CAPTURING',
                                                      'VOIDING', 'REFUNDING', 'RELEASING', 'RETURNING', 'DONE')),
  saga_stock       text NOT NULL CHECK (saga_stock IN ('NONE', 'RESERVED', 'COMMITTED')),
  saga_payment     text NOT NULL CHECK (saga_payment IN ('NONE', 'AUTHORIZED', 'CAPTURED')),
  -- Decided when compensation starts; copied to cancel_reason/decline_code once it is done.
  saga_cancel_reason text,
  saga_decline_code  text,
  saga_attempts        integer NOT NULL DEFAULT 0 CHECK (saga_attempts >= 0),
  saga_step_started_at timestamptz(3) NOT NULL,
  saga_next_attempt_at timestamptz(3) NOT NULL,
  saga_last_error      text,
  -- Bumped by every change of the saga: a runner whose call raced a change drops its answer.
  saga_version     integer NOT NULL DEFAULT 0,
  cancel_requested boolean NOT NULL DEFAULT false,
  -- Which runner drives the saga, until when (several orders instances share the table).
  lease_owner      text,
  lease_until      timestamptz(3),

  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  updated_at       timestamptz(3) NOT NULL DEFAULT now(),
  CHECK ((status = 'CANCELLED') = (cancel_reason IS NOT NULL)),
  CHECK (decline_code IS NULL OR cancel_reason = 'PAYMENT_DECLINED')
);

-- One checkout at a time per customer, even under races: a second PENDING order cannot exist.
CREATE UNIQUE INDEX orders_one_pending_checkout ON orders (customer_id) WHERE status = 'PENDING';
-- Keyset pagination, newest first: a customer's orders, and everybody's (admins).
CREATE INDEX orders_customer_listing_idx ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_listing_idx ON orders (created_at DESC, id DESC);
-- The sweep: sagas with work left, soonest first.
CREATE INDEX orders_saga_due_idx ON orders (saga_next_attempt_at) WHERE saga_step <> 'DONE';

CREATE TABLE order_lines (
  order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  position    smallint NOT NULL CHECK (position >= 0),
  product_id  text NOT NULL,
  -- Empty only for a product the catalog no longer knows (the order was then cancelled at once).
  merchant_id text NOT NULL,
  name        text NOT NULL,
  price       integer NOT NULL CHECK (price >= 0),
  quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  line_total  bigint NOT NULL CHECK (line_total = price::bigint * quantity),
  PRIMARY KEY (order_id, position),
  UNIQUE (order_id, product_id)
);
-- A merchant's orders: those with at least one line of theirs.
CREATE INDEX order_lines_merchant_idx ON order_lines (merchant_id, order_id);

-- Checkout idempotency keys, per customer, kept 24 hours. A row without `order_id` is a claim of a
-- request still working (or abandoned, once past `answer_by`); `answered_at` is set when the
-- first request with the key has answered.
CREATE TABLE idempotency_keys (
  customer_id  text NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  claim_token  uuid NOT NULL,
  order_id     uuid REFERENCES orders (id) ON DELETE CASCADE,
  claimed_at   timestamptz(3) NOT NULL DEFAULT now(),
  -- The holding request's deadline: past it the claim is abandoned (no order) or replayed (order).
  answer_by    timestamptz(3) NOT NULL,
  answered_at  timestamptz(3),
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Every answer a saga step got, in order: what was called for each order and what came of it.
CREATE TABLE order_saga_log (
  id        bigserial PRIMARY KEY,
  order_id  uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  step      text NOT NULL,
  outcome   text NOT NULL,
  detail    text,
  at        timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX order_saga_log_order_idx ON order_saga_log (order_id, id);
