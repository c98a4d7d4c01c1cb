/**
 * `/ops` (admins): every service's instances as the live stream reports them, with a kill button
 * in embedded mode, each service's traffic over the last 15 minutes, and the circuits not closed.
 */
import type { OpsServiceList } from '@bazaar/contracts';
import type { ReactNode } from 'react';
import { Empty, ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { type Connection, useOpsServices } from '../../lib/ops.ts';
import { ServicesSection } from './ServicesSection.tsx';
import { TrafficSection } from './TrafficSection.tsx';

/** The ops console page (lazy-loaded by App). */
export default function OpsConsolePage() {
  const { list, connection, error } = useOpsServices();
  return (
    <section className="console ops">
      <PageTitle>Operations</PageTitle>
      <ConnectionLine connection={connection} />
      {list && !list.registryConnected && (
        <p className="notice">
          The gateway has lost touch with the registry; this is the last list of services it knew.
        </p>
      )}
      <section aria-labelledby="services-heading">
        <h2 id="services-heading">Services</h2>
        <Pending list={list} error={error}>
          {(l) => <ServicesSection list={l} />}
        </Pending>
      </section>
      <section aria-labelledby="traffic-heading">
        <h2 id="traffic-heading">Traffic</h2>
        <TrafficSection />
      </section>
      <section aria-labelledby="circuits-heading">
        <h2 id="circuits-heading">Circuits</h2>
        <Pending list={list} error={error}>
          {(l) => <Circuits list={l} />}
        </Pending>
      </section>
    </section>
  );
}

const CONNECTION_WORDS: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

/** Whether the console is following the live stream. */
function ConnectionLine({ connection }: { connection: Connection }) {
  return (
    <p className={`live-line live-${connection}`}>
      <span className="live-dot" aria-hidden="true" />
      <span role="status">{CONNECTION_WORDS[connection]}</span>
    </p>
  );
}

/** The services list's content once there is one; loading or the poll's error before that. */
function Pending({
  list,
  error,
  children,
}: {
  list: OpsServiceList | null;
  error: unknown;
  children: (list: OpsServiceList) => ReactNode;
}) {
  if (list) return <>{children(list)}</>;
  if (error) return <ErrorNote error={error} />;
  return <Loading label="Loading services…" />;
}

/** Every instance whose circuit at the gateway is not closed, or a sentence saying there is none. */
function Circuits({ list }: { list: OpsServiceList }) {
  const troubled = list.items.flatMap((service) =>
    service.instances
      .filter((i) => i.circuit !== null && i.circuit !== 'closed')
      .map((instance) => ({ service: service.name, instance })),
  );
  if (troubled.length === 0) return <Empty>Every circuit is closed.</Empty>;
  return (
    <ul className="circuits">
      {troubled.map(({ service, instance }) => (
        <li key={instance.id}>
          <code>{instance.id}</code> ({service}):{' '}
          <span className={`status status-${instance.circuit}`}>{instance.circuit}</span>
          {instance.ejected && ', ejected for failing'}
        </li>
      ))}
    </ul>
  );
}
