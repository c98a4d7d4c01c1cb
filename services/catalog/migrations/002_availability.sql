-- What inventory last told catalog about each product's stock (`inventory.stock-changed`), so a
-- product shows `available` without a call per product. All three stay NULL until the first event.
-- `available_revision` is the event's revision: a late, older event must not overwrite a newer one.
ALTER TABLE products
  ADD COLUMN available          integer,
  ADD COLUMN available_as_of    timestamptz(3),
  ADD COLUMN available_revision bigint;
