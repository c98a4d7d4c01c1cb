-- Catalog: categories and products, with full-text search and keyset-pagination indexes.
-- Runs on PostgreSQL 15 and 18 (gen_random_uuid() is core since 13).

CREATE TABLE categories (
  slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100)
);

CREATE TABLE products (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id text NOT NULL CHECK (length(merchant_id) BETWEEN 1 AND 64),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  price       integer NOT NULL CHECK (price >= 0),
  currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  category    text NOT NULL REFERENCES categories (slug),
  image_url   text,
  hidden      boolean NOT NULL DEFAULT false,
  -- Millisecond precision, so a timestamp survives the round trip through a JS Date and a cursor.
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now(),
  -- A generated column can only read its own row, so the category contributes its slug (hyphens as
  -- spaces) rather than the display name held in `categories`.
  search      tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english'::regconfig, name), 'A') ||
                setweight(to_tsvector('english'::regconfig, replace(category, '-', ' ')), 'B') ||
                setweight(to_tsvector('english'::regconfig, description), 'B')
              ) STORED
);

-- Full-text search (`q`).
CREATE INDEX products_search_idx ON products USING gin (search);

-- Keyset pagination of the public listing, newest first: ORDER BY created_at DESC, id DESC.
CREATE INDEX products_listing_idx ON products (created_at DESC, id DESC) WHERE NOT hidden;
CREATE INDEX products_category_listing_idx ON products (category, created_at DESC, id DESC) WHERE NOT hidden;
-- Not partial: a merchant's own listing will include the products they hid.
CREATE INDEX products_merchant_listing_idx ON products (merchant_id, created_at DESC, id DESC);
