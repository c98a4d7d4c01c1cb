-- The config center: every version of every service's live config, kept whole (`config`: the
-- values with the schema's defaults filled). The current config is the highest version; a rollback
-- is a new version.
CREATE TABLE config_versions (
  service text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  config jsonb NOT NULL,
  author text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (service, version)
);

-- What each instance last reported of its live config: {version, error}; null until it reports.
ALTER TABLE instances ADD COLUMN applied_config jsonb;
