-- Registered instances. Times come from the registry's clock (one source for leases and sweeps).
CREATE TABLE instances (
  id text PRIMARY KEY,
  service text NOT NULL,
  host text NOT NULL,
  port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  version text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL CHECK (status IN ('up', 'draining', 'down')),
  registered_at timestamptz NOT NULL,
  last_heartbeat_at timestamptz NOT NULL,
  lease_expires_at timestamptz NOT NULL,
  down_at timestamptz
);

CREATE INDEX instances_service ON instances (service);
-- The sweep reads only instances whose lease ran out, or that are already leaving.
CREATE INDEX instances_lease ON instances (lease_expires_at);
