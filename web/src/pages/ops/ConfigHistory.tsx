/**
 * The config page's history: every stored version, newest first, with its author, reason and
 * time, what it changed from the version before it (the first one from the defaults), and a
 * rollback to any older version, asked once more with a reason before it is done.
 */
import type { ConfigVersion } from '@bazaar/contracts';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Field } from '../../components/Field.tsx';
import { Empty, ErrorNote, Loading } from '../../components/ui.tsx';
import { fieldErrors } from '../../lib/api.ts';
import { useConfigHistory, useRollbackConfig } from '../../lib/config.ts';
import {
  diffValues,
  formatValue,
  type SchemaNode,
  schemaDefaults,
  type ValueChange,
  withDefaults,
} from '../../lib/config-values.ts';
import { useNow } from '../../lib/ops.ts';
import { formatAgo } from '../../lib/ops-text.ts';

/** The "History" section of one service. */
export function ConfigHistorySection({
  service,
  schema,
  currentVersion,
  onRolledBack,
}: {
  service: string;
  schema: SchemaNode;
  /** The version the page shows as current (null until known): it gets no rollback button. */
  currentVersion: number | null;
  onRolledBack: (version: number, from: number) => void;
}) {
  const history = useConfigHistory(service);
  const now = useNow(5000);
  const [asking, setAsking] = useState<number | null>(null);
  const defaults = useMemo(() => schemaDefaults(schema), [schema]);
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      {history.isPending ? (
        <Loading label="Loading the history…" />
      ) : history.error ? (
        <ErrorNote error={history.error} retry={() => void history.refetch()} />
      ) : history.data.items.length === 0 ? (
        <Empty>No version was ever set: {service} runs on its defaults.</Empty>
      ) : (
        <ol className="config-history plain-list">
          {history.data.items.map((version, i, items) => (
            <li key={version.version}>
              <VersionEntry
                service={service}
                version={version}
                previous={previousValues(items, i, defaults)}
                defaults={defaults}
                current={version.version === (currentVersion ?? items[0]?.version)}
                now={now}
                asking={asking === version.version}
                onAsk={(open) => setAsking(open ? version.version : null)}
                onRolledBack={(next) => {
                  setAsking(null);
                  onRolledBack(next, version.version);
                }}
              />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** What a version is compared with: the version before it, the defaults for the first, or nothing. */
type Previous = { label: string; values: Record<string, unknown> } | null;

function previousValues(items: ConfigVersion[], index: number, defaults: Record<string, unknown>): Previous {
  const version = items[index] as ConfigVersion;
  const before = items[index + 1];
  if (before && before.version === version.version - 1)
    return { label: `version ${before.version}`, values: before.values };
  if (version.version === 1) return { label: 'the defaults', values: defaults };
  return null;
}

function VersionEntry({
  service,
  version,
  previous,
  defaults,
  current,
  now,
  asking,
  onAsk,
  onRolledBack,
}: {
  service: string;
  version: ConfigVersion;
  previous: Previous;
  /** What a field left out takes, so versions compare by what they do. */
  defaults: Record<string, unknown>;
  current: boolean;
  now: number;
  asking: boolean;
  onAsk: (open: boolean) => void;
  onRolledBack: (newVersion: number) => void;
}) {
  return (
    <article className="config-version" aria-labelledby={`version-${version.version}`}>
      <header className="config-version-heading">
        <h3 id={`version-${version.version}`}>Version {version.version}</h3>
        {current && <span className="status status-current">current</span>}
      </header>
      <p className="config-version-meta">
        By {version.author},{' '}
        <time dateTime={version.at} title={new Date(version.at).toLocaleString()}>
          {formatAgo(version.at, now)}
        </time>
        : “{version.reason}”
      </p>
      <ChangeList previous={previous} values={version.values} defaults={defaults} />
      {!current && (
        <Rollback
          service={service}
          version={version.version}
          asking={asking}
          onAsk={onAsk}
          onDone={onRolledBack}
        />
      )}
    </article>
  );
}

const KIND_WORDS: Record<ValueChange['kind'], string> = {
  changed: 'changed',
  added: 'added',
  removed: 'removed',
};

/**
 * The leaves that differ from `previous` once both have their defaults filled in, in words
 * ("changed simulator.declineRate: 0 → 1").
 */
function ChangeList({
  previous,
  values,
  defaults,
}: {
  previous: Previous;
  values: Record<string, unknown>;
  defaults: Record<string, unknown>;
}) {
  if (!previous) return <p className="muted fine-print">The version before it is no longer kept.</p>;
  const changes = diffValues(withDefaults(previous.values, defaults), withDefaults(values, defaults));
  if (changes.length === 0) return <p className="muted fine-print">Same values as {previous.label}.</p>;
  return (
    <div className="config-diff">
      <p className="fine-print muted">Compared with {previous.label}:</p>
      <ul className="plain-list">
        {changes.map((change) => (
          <li key={change.path} className={`diff-${change.kind}`}>
            <span className="diff-kind">{KIND_WORDS[change.kind]}</span> <code>{change.path}</code>:{' '}
            {change.kind !== 'added' && <code className="diff-old">{formatValue(change.before)}</code>}
            {change.kind === 'changed' && ' → '}
            {change.kind !== 'removed' && <code className="diff-new">{formatValue(change.after)}</code>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** "Roll back to version N", asking for a reason and once more before it does. */
function Rollback({
  service,
  version,
  asking,
  onAsk,
  onDone,
}: {
  service: string;
  version: number;
  asking: boolean;
  onAsk: (open: boolean) => void;
  onDone: (newVersion: number) => void;
}) {
  const rollback = useRollbackConfig(service);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const openButton = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLFieldSetElement>(null);

  useEffect(() => {
    if (asking) confirm.current?.querySelector<HTMLInputElement>('input')?.focus();
  }, [asking]);

  const close = () => {
    onAsk(false);
    rollback.reset();
    // Put focus back where it was before the question, once the button is there again.
    requestAnimationFrame(() => openButton.current?.focus());
  };

  if (!asking)
    return (
      <p className="config-version-actions">
        <button ref={openButton} type="button" className="secondary small-button" onClick={() => onAsk(true)}>
          Roll back to version {version}
        </button>
      </p>
    );

  const submit = () => {
    if (!reason.trim()) {
      setProblem('enter a reason: it is kept in the history');
      confirm.current?.querySelector<HTMLInputElement>('input')?.focus();
      return;
    }
    setProblem(undefined);
    rollback.mutate(
      { version, reason: reason.trim() },
      {
        onSuccess: (doc) => onDone(doc.version),
        onError: (err) => setProblem(fieldErrors(err).reason),
      },
    );
  };

  const shownError = rollback.error && !fieldErrors(rollback.error).reason ? rollback.error : null;
  return (
    <fieldset ref={confirm} className="confirm">
      <legend>Roll back to version {version}?</legend>
      <p>
        A new version is made with the values of version {version} and pushed to every {service} instance.
      </p>
      <Field label="Reason for the rollback" error={problem}>
        {(props) => (
          <input
            {...props}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            maxLength={500}
            required
            autoComplete="off"
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                submit();
              }
            }}
          />
        )}
      </Field>
      {shownError && <ErrorNote error={shownError} />}
      <p className="confirm-buttons">
        <button
          type="button"
          className="danger"
          disabled={rollback.isPending}
          aria-busy={rollback.isPending}
          onClick={submit}
        >
          Yes, roll back
        </button>
        <button type="button" className="secondary" onClick={close} disabled={rollback.isPending}>
          Keep the current version
        </button>
      </p>
    </fieldset>
  );
}
