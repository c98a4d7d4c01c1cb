-- Payments: one payment per order, the ledger of money effects, and the simulated provider's own
-- record of the operations it performed. Runs on PostgreSQL 15 and 18.

-- One row per order. `customer_id` is null only for a tombstone: a void that came before any
-- authorize leaves a VOIDED payment of 0, so that a late authorize of that order changes nothing.
CREATE TABLE payments (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id      text NOT NULL UNIQUE CHECK (length(order_id) BETWEEN 1 AND 64),
  customer_id   text CHECK (length(customer_id) BETWEEN 1 AND 64),
  status        text NOT NULL CHECK (status IN ('AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED', 'REFUNDED')),
  amount        integer NOT NULL CHECK (amount >= 0),
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  decline_code  text CHECK (decline_code IN ('card_declined', 'insufficient_funds')),
  -- The provider's authorization; every payment whose money moved has one.
  provider_ref  text,
  -- Millisecond precision, so a timestamp survives the round trip through a JS Date and a cursor.
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now(),
  CHECK ((status = 'DECLINED') = (decline_code IS NOT NULL)),
  CHECK (status IN ('DECLINED', 'VOIDED') OR provider_ref IS NOT NULL)
);

-- `GET /api/payments`: a customer's payments newest first, and every payment for admins.
CREATE INDEX payments_customer_listing_idx ON payments (customer_id, created_at DESC, id DESC);
CREATE INDEX payments_listing_idx ON payments (created_at DESC, id DESC);

-- One row per money effect. The unique key is what makes a repeated step unable to add a second
-- effect (QUALITY I1, I5, I7): per order at most one authorization, one capture, one void, one refund.
-- Amounts: authorize = held, capture = taken, void = released hold, refund = returned.
CREATE TABLE payment_ledger (
  id            bigserial PRIMARY KEY,
  payment_id    uuid NOT NULL REFERENCES payments (id),
  order_id      text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('authorize', 'capture', 'void', 'refund')),
  amount        integer NOT NULL CHECK (amount >= 0),
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  provider_ref  text NOT NULL,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (order_id, kind)
);

-- The simulated provider's side: what it did under each idempotency key, so a call repeated with
-- the same key (payments crashed before recording the answer) answers the first outcome again.
CREATE TABLE provider_operations (
  idempotency_key text PRIMARY KEY,
  operation       text NOT NULL CHECK (operation IN ('authorize', 'capture', 'void', 'refund')),
  outcome         text NOT NULL CHECK (outcome IN ('authorized', 'declined', 'done')),
  -- The authorization: made by an authorize, acted on by the others; none for a decline.
  ref             text,
  decline_code    text,
  amount          integer,
  currency        text,
  created_at      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX provider_operations_ref_idx ON provider_operations (ref);
