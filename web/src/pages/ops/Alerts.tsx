/**
 * `/ops/alerts` (admins): the alerts of the embedded evaluator that are active, firing before
 * pending, each with its severity, summary, labels, since when and the value it measured;
 * refreshed every 5 s.
 */
import type { OpsAlert, OpsAlertList } from '@bazaar/contracts';
import { Empty, ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { errorSentence } from '../../lib/api.ts';
import { useNow, useOpsAlerts } from '../../lib/ops.ts';
import { formatAgo, formatAlertValue } from '../../lib/ops-text.ts';

const SEVERITY_WORDS: Record<OpsAlert['severity'], string> = {
  page: 'page: act now',
  ticket: 'ticket: act today',
};

/** The alerts page (lazy-loaded by App). */
export default function OpsAlertsPage() {
  const alerts = useOpsAlerts();
  const now = useNow(1000);
  return (
    <section className="console ops">
      <PageTitle>Alerts</PageTitle>
      {alerts.data ? (
        <>
          {alerts.error && (
            <p className="muted fine-print">
              The alerts could not be refreshed ({errorSentence(alerts.error)}); these are the last ones.
            </p>
          )}
          <AlertList list={alerts.data} now={now} />
        </>
      ) : alerts.error ? (
        <ErrorNote error={alerts.error} retry={() => void alerts.refetch()} />
      ) : (
        <Loading label="Loading alerts…" />
      )}
    </section>
  );
}

function AlertList({ list, now }: { list: OpsAlertList; now: number }) {
  const firing = list.items.filter((a) => a.state === 'firing');
  const pending = list.items.filter((a) => a.state === 'pending');
  return (
    <>
      <p className="muted fine-print">
        {list.evaluatedAt
          ? `${list.rules} rules evaluated ${formatAgo(list.evaluatedAt, now)}.`
          : 'The rules have not been evaluated yet.'}
      </p>
      <h2>Firing</h2>
      {firing.length === 0 ? <Empty>No alerts firing.</Empty> : <AlertCards alerts={firing} now={now} />}
      {pending.length > 0 && (
        <>
          <h2>Pending</h2>
          <p className="muted fine-print">
            Their condition holds, but not yet for as long as the rule asks before it fires.
          </p>
          <AlertCards alerts={pending} now={now} />
        </>
      )}
    </>
  );
}

function AlertCards({ alerts, now }: { alerts: OpsAlert[]; now: number }) {
  return (
    <ul className="alerts plain-list">
      {alerts.map((alert) => (
        <li key={`${alert.name}:${labelText(alert.labels)}`}>
          <AlertCard alert={alert} now={now} />
        </li>
      ))}
    </ul>
  );
}

function AlertCard({ alert, now }: { alert: OpsAlert; now: number }) {
  const labels = Object.entries(alert.labels).sort(([a], [b]) => a.localeCompare(b));
  return (
    <article className={`alert alert-${alert.state} alert-${alert.severity}`}>
      <header className="alert-heading">
        <h3>{alert.name}</h3>
        <span className={`status status-${alert.state}`}>{alert.state}</span>
        <span className={`status severity-${alert.severity}`}>{SEVERITY_WORDS[alert.severity]}</span>
      </header>
      <p className="alert-summary">{alert.summary}</p>
      <dl className="alert-facts">
        <div>
          <dt>Since</dt>
          <dd>
            <time dateTime={alert.activeSince} title={new Date(alert.activeSince).toLocaleString()}>
              {formatAgo(alert.activeSince, now)}
            </time>
          </dd>
        </div>
        <div>
          <dt>Value</dt>
          <dd className="num-text">{formatAlertValue(alert.value)}</dd>
        </div>
        {labels.length > 0 && (
          <div>
            <dt>Labels</dt>
            <dd>
              <ul className="labels plain-list">
                {labels.map(([key, value]) => (
                  <li key={key}>
                    <code>
                      {key}={value}
                    </code>
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        )}
      </dl>
    </article>
  );
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
