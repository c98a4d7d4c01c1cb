/** The ops console's "Services" section: a table of instances per service, with kill buttons. */
import type { OpsInstance, OpsService, OpsServiceList } from '@bazaar/contracts';
import { useState } from 'react';
import { Empty, ErrorNote } from '../../components/ui.tsx';
import { killInstance, useNow } from '../../lib/ops.ts';
import { formatAgo } from '../../lib/ops-text.ts';

/** What the last kill did: the instance it was for, and its error when it failed. */
type KillOutcome = { id: string; error?: unknown };

/** A table per service of its instances as `list` has them, and the outcome of the last kill. */
export function ServicesSection({ list }: { list: OpsServiceList }) {
  const now = useNow(1000);
  const [killing, setKilling] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<KillOutcome | null>(null);

  async function kill(id: string) {
    setKilling(id);
    setOutcome(null);
    try {
      await killInstance(id);
      setOutcome({ id });
    } catch (error) {
      setOutcome({ id, error });
    } finally {
      setKilling(null);
    }
  }

  if (list.items.length === 0) return <Empty>No service is registered.</Empty>;
  return (
    <>
      {outcome && !outcome.error && (
        <p className="notice-line" role="status">
          Killed {outcome.id}; the supervisor restarts it.
        </p>
      )}
      {outcome?.error !== undefined && <ErrorNote error={outcome.error} />}
      {list.items.map((service) => (
        <ServiceTable
          key={service.name}
          service={service}
          now={now}
          onKill={list.killable ? kill : undefined}
          killing={killing}
        />
      ))}
    </>
  );
}

function ServiceTable({
  service,
  now,
  onKill,
  killing,
}: {
  service: OpsService;
  now: number;
  /** Present when instances can be killed from the console (not those already down). */
  onKill: ((id: string) => void) | undefined;
  killing: string | null;
}) {
  return (
    <div className="service">
      <h3>{service.name}</h3>
      {service.instances.length === 0 ? (
        <Empty>No instance of {service.name} is registered.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="instances">
            <caption className="visually-hidden">{service.name} instances</caption>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Status</th>
                <th scope="col">Version</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Circuit</th>
                <th scope="col">Config</th>
                <th scope="col" className="num">
                  In flight
                </th>
                <th scope="col" className="num">
                  Latency
                </th>
                {onKill && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {service.instances.map((instance) => (
                <InstanceRow
                  key={instance.id}
                  instance={instance}
                  now={now}
                  onKill={onKill}
                  killing={killing === instance.id}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function InstanceRow({
  instance,
  now,
  onKill,
  killing,
}: {
  instance: OpsInstance;
  now: number;
  onKill: ((id: string) => void) | undefined;
  killing: boolean;
}) {
  return (
    <tr>
      <td>
        <code>{instance.id}</code>
      </td>
      <td>
        <span className={`status status-${instance.status}`}>{instance.status}</span>
      </td>
      <td>{instance.version}</td>
      <td>
        <time dateTime={instance.lastHeartbeatAt} title={new Date(instance.lastHeartbeatAt).toLocaleString()}>
          {formatAgo(instance.lastHeartbeatAt, now)}
        </time>
      </td>
      <td>
        {instance.circuit ? (
          <span className={`status status-${instance.circuit}`}>{instance.circuit}</span>
        ) : (
          '—'
        )}
        {instance.ejected && <span className="ejected"> ejected</span>}
      </td>
      <td className="config-cell">
        <AppliedConfigCell config={instance.config} />
      </td>
      <td className="num">{instance.inflight}</td>
      <td className="num">{instance.latencyMs === null ? '—' : `${Math.round(instance.latencyMs)} ms`}</td>
      {onKill && (
        <td>
          {instance.killable && (
            <button
              type="button"
              className="danger small-button"
              onClick={() => onKill(instance.id)}
              disabled={killing}
              aria-busy={killing}
            >
              Kill <span className="visually-hidden">{instance.id}</span>
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

/** The live-config version an instance applied, and the refusal of a newer one when it reported one. */
function AppliedConfigCell({ config }: { config: OpsInstance['config'] }) {
  if (config === null) return <span className="muted">—</span>;
  return (
    <>
      v{config.version}
      {config.error && (
        <span className="config-refused">
          <span aria-hidden="true">⚠ </span>
          {config.error}
        </span>
      )}
    </>
  );
}
