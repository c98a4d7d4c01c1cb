import type { ConfigPushed, ConfigVersion } from '@bazaar/contracts';
import type pg from 'pg';

/** The channel every registry replica listens on for config changes; the payload is `{service, version}`. */
export const CONFIG_CHANNEL = 'registry_config';

/** History answers at most this many versions, newest first. */
const HISTORY_LIMIT = 100;

interface VersionRow {
  version: number;
  config: Record<string, unknown>;
  author: string;
  reason: string;
  at: Date;
}

/** What a new version holds besides its number. */
export interface ConfigEntry {
  values: Record<string, unknown>;
  author: string;
  reason: string;
}

const COLUMNS = 'version, config, author, reason, at';

function toVersion(row: VersionRow): ConfigVersion {
  return {
    version: row.version,
    values: row.config,
    author: row.author,
    reason: row.reason,
    at: row.at.toISOString(),
  };
}

/** The service's newest version, if any was ever stored. */
export async function currentConfig(db: pg.Pool, service: string): Promise<ConfigVersion | undefined> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM config_versions WHERE service = $1 ORDER BY version DESC LIMIT 1`,
    [service],
  );
  return rows[0] && toVersion(rows[0]);
}

/** One stored version of the service's config. */
export async function configVersion(
  db: pg.Pool,
  service: string,
  version: number,
): Promise<ConfigVersion | undefined> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM config_versions WHERE service = $1 AND version = $2`,
    [service, version],
  );
  return rows[0] && toVersion(rows[0]);
}

/** The service's versions, newest first. */
export async function configHistory(db: pg.Pool, service: string): Promise<ConfigVersion[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM config_versions WHERE service = $1 ORDER BY version DESC LIMIT $2`,
    [service, HISTORY_LIMIT],
  );
  return rows.map(toVersion);
}

/**
 * Stores `entry` as version `expected + 1`, but only while `expected` is the current version (0:
 * none yet); undefined when it is not. Two writers expecting the same version meet at the primary
 * key, and only one of them stores. Every replica is told of the new version.
 */
export async function insertConfigVersion(
  db: pg.Pool,
  service: string,
  expected: number,
  entry: ConfigEntry,
  at: number,
): Promise<ConfigVersion | undefined> {
  const { rows } = await db.query<VersionRow>(
    `INSERT INTO config_versions (service, version, config, author, reason, at)
     SELECT $1, $2::integer + 1, $3, $4, $5, $6
     WHERE (SELECT coalesce(max(version), 0) FROM config_versions WHERE service = $1) = $2::integer
     ON CONFLICT (service, version) DO NOTHING
     RETURNING ${COLUMNS}`,
    [service, expected, JSON.stringify(entry.values), entry.author, entry.reason, new Date(at)],
  );
  if (!rows[0]) return undefined;
  const stored = toVersion(rows[0]);
  const pushed: ConfigPushed = { service, version: stored.version };
  await db.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, JSON.stringify(pushed)]);
  return stored;
}

/** Every service's current version (for watchers that may have missed pushes). */
export async function currentVersions(db: pg.Pool): Promise<ConfigPushed[]> {
  const { rows } = await db.query<ConfigPushed>(
    'SELECT service, max(version) AS version FROM config_versions GROUP BY service ORDER BY service',
  );
  return rows;
}
