-- The W3C `traceparent` of the work that wrote each outbox row (null outside any trace): the relay
-- publishes the event under a producer span of that trace and sends the span's traceparent on.
ALTER TABLE kit_outbox ADD COLUMN traceparent text;
