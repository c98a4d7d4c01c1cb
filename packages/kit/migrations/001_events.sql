-- The kit's event tables, in every service database that has migrations.
-- Outbox: events written in the same transaction as the state change they announce; the relay
-- publishes them in `seq` order and marks them sent.
CREATE TABLE kit_outbox (
  seq         bigserial PRIMARY KEY,
  id          uuid NOT NULL UNIQUE,
  type        text NOT NULL,
  subject     text NOT NULL,
  envelope    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX kit_outbox_unsent_idx ON kit_outbox (seq) WHERE sent_at IS NULL;

-- Inbox: one row per (consumer, event) whose effect committed; a redelivery finds it and does nothing.
CREATE TABLE kit_inbox (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Dead letters: events a consumer failed on every attempt; `bazaar events redrive` requests another go.
CREATE TABLE kit_dead_letters (
  id                   bigserial PRIMARY KEY,
  consumer             text NOT NULL,
  event_id             uuid NOT NULL,
  type                 text NOT NULL,
  envelope             jsonb NOT NULL,
  error                text NOT NULL,
  attempts             integer NOT NULL,
  failed_at            timestamptz NOT NULL DEFAULT now(),
  redrive_requested_at timestamptz,
  redriven_at          timestamptz,
  UNIQUE (consumer, event_id)
);
