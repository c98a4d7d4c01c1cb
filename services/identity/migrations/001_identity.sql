-- Identity: accounts, signing keys, sessions (refresh-token families) and revocations.
-- Every timestamp is written by the service's clock with millisecond precision, so tests can move
-- time and a timestamp survives the round trip through a JS Date and a cursor.

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  -- Stored trimmed and lower-cased, so uniqueness ignores case.
  email         text NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  role          text NOT NULL CHECK (role IN ('customer', 'merchant', 'admin')),
  password_hash text NOT NULL,
  disabled_at   timestamptz(3),
  created_at    timestamptz(3) NOT NULL,
  updated_at    timestamptz(3) NOT NULL
);
CREATE INDEX users_created_at_id ON users (created_at, id);

-- Ed25519 keys shared by every identity replica. The private JWK is sealed (AES-256-GCM) under a
-- key derived from BAZAAR_SIGNING_KEY_SECRET; the database alone cannot sign a token.
CREATE TABLE signing_keys (
  kid                 text PRIMARY KEY,
  public_jwk          jsonb NOT NULL,
  private_jwk_sealed  text NOT NULL,
  created_at          timestamptz(3) NOT NULL,
  activates_at        timestamptz(3) NOT NULL,
  retires_at          timestamptz(3)
);

-- A session is one login: the family of refresh tokens that descend from it (its id is `sid`).
CREATE TABLE sessions (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at     timestamptz(3) NOT NULL,
  -- Absolute lifetime: a refresh never moves it.
  expires_at     timestamptz(3) NOT NULL,
  revoked_at     timestamptz(3),
  revoked_reason text
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Refresh tokens are stored only as their SHA-256. A spent token keeps its successor pair sealed
-- under a key derived from the token itself, for the racing refresh that presents it again.
CREATE TABLE refresh_tokens (
  token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at    timestamptz(3) NOT NULL,
  spent_at     timestamptz(3),
  successor    text
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- What verifiers must refuse although the signature is good: tokens issued before `not_before` to a
-- subject (user) or a session. Kept only while such a token could still be alive.
CREATE TABLE revocations (
  kind        text NOT NULL CHECK (kind IN ('subject', 'session')),
  key         text NOT NULL,
  not_before  timestamptz(3) NOT NULL,
  expires_at  timestamptz(3) NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX revocations_expires_at ON revocations (expires_at);
