import type { AppliedConfig, Instance, InstanceStatus, RegisterInstance, Service } from '@bazaar/contracts';
import type pg from 'pg';
import type { LeaseState } from '../domain/lease.ts';

/** The channel every registry replica listens on; the payload is the changed service's name. */
export const CHANGES_CHANNEL = 'registry_changes';

interface InstanceRow {
  id: string;
  service: string;
  host: string;
  port: number;
  version: string;
  metadata: Record<string, string>;
  status: InstanceStatus;
  registered_at: Date;
  last_heartbeat_at: Date;
  lease_expires_at: Date;
  down_at: Date | null;
  applied_config: AppliedConfig | null;
}

const COLUMNS =
  'id, service, host, port, version, metadata, status, registered_at, last_heartbeat_at, lease_expires_at, down_at, applied_config';

function toInstance(row: InstanceRow): Instance {
  return {
    id: row.id,
    service: row.service,
    host: row.host,
    port: row.port,
    version: row.version,
    status: row.status,
    metadata: row.metadata,
    registeredAt: row.registered_at.toISOString(),
    lastHeartbeatAt: row.last_heartbeat_at.toISOString(),
    config: row.applied_config,
  };
}

async function notify(db: pg.Pool | pg.PoolClient, service: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, service]);
}

/** The service an instance id is registered under, if any. */
export async function serviceOfInstance(db: pg.Pool, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ service: string }>('SELECT service FROM instances WHERE id = $1', [id]);
  return rows[0]?.service;
}

/** Registers (or re-registers) an instance as `up` with a fresh lease; tells every replica. */
export async function upsertInstance(
  db: pg.Pool,
  id: string,
  body: RegisterInstance,
  now: number,
  leaseUntil: number,
): Promise<{ created: boolean; instance: Instance }> {
  const { rows } = await db.query<InstanceRow & { created: boolean }>(
    `INSERT INTO instances (id, service, host, port, version, metadata, status, registered_at, last_heartbeat_at, lease_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'up', $7, $7, $8)
     ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port, version = EXCLUDED.version,
       metadata = EXCLUDED.metadata, status = 'up', last_heartbeat_at = EXCLUDED.last_heartbeat_at,
       lease_expires_at = EXCLUDED.lease_expires_at, down_at = NULL,
       registered_at = CASE WHEN instances.status = 'up' THEN instances.registered_at ELSE EXCLUDED.registered_at END
     RETURNING ${COLUMNS}, (xmax = 0) AS created`,
    [
      id,
      body.service,
      body.host,
      body.port,
      body.version,
      body.metadata ?? {},
      new Date(now),
      new Date(leaseUntil),
    ],
  );
  await notify(db, body.service);
  return { created: rows[0]!.created, instance: toInstance(rows[0]!) };
}

/** What a heartbeat did: renewed the lease, or found no live instance, or another service's. */
export type Renewal = 'renewed' | 'unknown' | 'forbidden';

/**
 * Renews the lease of `caller`'s instance `id` when it is not `down`, keeping what it reports of its
 * live config (watchers are told when that changed). One statement when it is renewed, the usual
 * case; only a heartbeat that renewed nothing asks who owns the instance.
 */
export async function renewLease(
  db: pg.Pool,
  id: string,
  caller: string,
  now: number,
  leaseUntil: number,
  applied?: AppliedConfig,
): Promise<Renewal> {
  const { rows } = await db.query<{ service: string; changed: boolean }>(
    `UPDATE instances i SET last_heartbeat_at = $2, lease_expires_at = GREATEST(i.lease_expires_at, $3),
       applied_config = coalesce($4::jsonb, i.applied_config)
     FROM (SELECT id, applied_config FROM instances WHERE id = $1) AS before
     WHERE i.id = before.id AND i.service = $5 AND i.status <> 'down'
     RETURNING i.service, before.applied_config IS DISTINCT FROM i.applied_config AS changed`,
    [id, new Date(now), new Date(leaseUntil), applied ? JSON.stringify(applied) : null, caller],
  );
  if (rows[0]) {
    if (rows[0].changed) await notify(db, rows[0].service);
    return 'renewed';
  }
  const owner = await serviceOfInstance(db, id);
  return owner !== undefined && owner !== caller ? 'forbidden' : 'unknown';
}

/** Marks an instance `draining`: no new traffic; removed when its lease runs out. */
export async function drainInstance(db: pg.Pool, id: string): Promise<boolean> {
  const { rows } = await db.query<{ service: string }>(
    `UPDATE instances SET status = 'draining' WHERE id = $1 AND status = 'up' RETURNING service`,
    [id],
  );
  if (rows[0]) await notify(db, rows[0].service);
  return rows.length > 0;
}

/** Every service with its instances (optionally one service). */
export async function listServices(db: pg.Pool, name?: string): Promise<Service[]> {
  const { rows } = await db.query<InstanceRow>(
    `SELECT ${COLUMNS} FROM instances ${name ? 'WHERE service = $1' : ''} ORDER BY service, registered_at, id`,
    name ? [name] : [],
  );
  const services = new Map<string, Instance[]>();
  for (const row of rows) {
    const list = services.get(row.service) ?? [];
    list.push(toInstance(row));
    services.set(row.service, list);
  }
  return [...services.entries()].map(([service, instances]) => ({ name: service, instances }));
}

/** Instances the sweep must look at: leases that ran out, and instances already leaving. */
export async function sweepCandidates(
  db: pg.Pool,
  now: number,
): Promise<(LeaseState & { id: string; service: string })[]> {
  const { rows } = await db.query<InstanceRow>(
    `SELECT ${COLUMNS} FROM instances WHERE lease_expires_at < $1 OR status = 'down'`,
    [new Date(now)],
  );
  return rows.map((r) => ({
    id: r.id,
    service: r.service,
    status: r.status,
    leaseExpiresAt: r.lease_expires_at.getTime(),
    downAt: r.down_at?.getTime() ?? null,
  }));
}

/** Evicts: `up` → `down` if its lease is still expired (another replica may have acted). */
export async function markDown(db: pg.Pool, id: string, now: number): Promise<string | undefined> {
  const { rows } = await db.query<{ service: string }>(
    `UPDATE instances SET status = 'down', down_at = $2 WHERE id = $1 AND status = 'up' AND lease_expires_at < $2
     RETURNING service`,
    [id, new Date(now)],
  );
  if (rows[0]) await notify(db, rows[0].service);
  return rows[0]?.service;
}

/** Removes an instance that was `status` (guarding against a re-registration in between). */
export async function removeInstance(
  db: pg.Pool,
  id: string,
  status: InstanceStatus,
): Promise<string | undefined> {
  const { rows } = await db.query<{ service: string }>(
    'DELETE FROM instances WHERE id = $1 AND status = $2 RETURNING service',
    [id, status],
  );
  if (rows[0]) await notify(db, rows[0].service);
  return rows[0]?.service;
}

/** On registry start: every lease not yet lost is renewed once, so nobody is evicted for our absence. */
export async function renewAllLeases(db: pg.Pool, leaseUntil: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE instances SET lease_expires_at = GREATEST(lease_expires_at, $1) WHERE status <> 'down'`,
    [new Date(leaseUntil)],
  );
  return rowCount ?? 0;
}

/** Counts of instances by service and status, for metrics. */
export async function countInstances(
  db: pg.Pool,
): Promise<{ service: string; status: string; count: number }[]> {
  const { rows } = await db.query<{ service: string; status: string; count: string }>(
    'SELECT service, status, count(*) AS count FROM instances GROUP BY service, status',
  );
  return rows.map((r) => ({ service: r.service, status: r.status, count: Number(r.count) }));
}
