/**
 * `/ops/config/:service` (admins): a service's live configuration in the config center. Shows the
 * current version and its values in a JSON editor; a change needs a reason and is saved against
 * the version shown, so a change made meanwhile by someone else is refused rather than lost. Below:
 * what can be set, and the history with each version's difference and a rollback.
 */
import type { ConfigDocument } from '@bazaar/contracts';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { NavLink, useParams } from 'react-router';
import { Field } from '../../components/Field.tsx';
import { Empty, ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { ApiError } from '../../lib/api.ts';
import {
  CONFIG_SERVICES,
  configSchema,
  useConfig,
  useConfigHistory,
  useReloadConfig,
  useSaveConfig,
} from '../../lib/config.ts';
import { configFieldPlace, type SchemaNode, schemaFields } from '../../lib/config-values.ts';
import { useNow } from '../../lib/ops.ts';
import { formatAgo } from '../../lib/ops-text.ts';
import { ConfigHistorySection } from './ConfigHistory.tsx';

/** The config page (lazy-loaded by App); without a service in the address it asks for one. */
export default function OpsConfigPage() {
  const { service } = useParams();
  return (
    <section className="console ops">
      <PageTitle>Config</PageTitle>
      <p className="lead">
        Each service’s live configuration. A change reaches its running instances within seconds, without a
        restart, and is kept in the history with its author and reason.
      </p>
      <nav aria-label="Services" className="config-services">
        <ul className="chips">
          {CONFIG_SERVICES.map((name) => (
            <li key={name}>
              <NavLink to={`/ops/config/${name}`}>{name}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      {service === undefined ? (
        <Empty>Choose a service to see and change its configuration.</Empty>
      ) : !CONFIG_SERVICES.includes(service) ? (
        <Empty>The config center knows no service called “{service}”. Choose one above.</Empty>
      ) : (
        <ServiceConfig key={service} service={service} schema={configSchema(service) as SchemaNode} />
      )}
    </section>
  );
}

/** What the last write did, told above the editor. */
type Outcome = { kind: 'saved' | 'rolled-back'; version: number; from?: number };

function ServiceConfig({ service, schema }: { service: string; schema: SchemaNode }) {
  const doc = useConfig(service);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // Told only while it is still the version shown (a reload may have brought a newer one).
  const told = outcome && doc.data?.version === outcome.version ? outcome : null;
  const [reason, setReason] = useState('');
  const notice = useRef<HTMLParagraphElement>(null);

  // The editor is rebuilt for the new version; take focus to the sentence that says what happened.
  useEffect(() => {
    if (told) notice.current?.focus();
  }, [told]);

  return (
    <>
      <h2>{service}</h2>
      {told && (
        <p ref={notice} className="notice-line" role="status" tabIndex={-1}>
          {told.kind === 'saved'
            ? `Saved: ${service} is now at version ${told.version}.`
            : `Rolled back: version ${told.version} has the values of version ${told.from}.`}
        </p>
      )}
      <div className="config-columns">
        <div>
          {doc.isPending ? (
            <Loading label={`Loading ${service}’s config…`} />
          ) : doc.error ? (
            <ErrorNote error={doc.error} retry={() => void doc.refetch()} />
          ) : (
            <>
              <CurrentVersion document={doc.data} />
              <ConfigEditor
                key={doc.data.version}
                document={doc.data}
                reason={reason}
                onReason={setReason}
                onSaved={(version) => {
                  setReason('');
                  setOutcome({ kind: 'saved', version });
                }}
              />
            </>
          )}
          <SchemaReference schema={schema} />
        </div>
        <ConfigHistorySection
          service={service}
          schema={schema}
          currentVersion={doc.data?.version ?? null}
          onRolledBack={(version, from) => {
            // The editor now shows the rolled-back values; a reason typed for another change is stale.
            setReason('');
            setOutcome({ kind: 'rolled-back', version, from });
          }}
        />
      </div>
    </>
  );
}

/** "Version 7, set by … 2 min ago: “reason”", from the history's newest entry. */
function CurrentVersion({ document }: { document: ConfigDocument }) {
  const history = useConfigHistory(document.service);
  const now = useNow(5000);
  const reload = useReloadConfig(document.service);
  const [reloading, setReloading] = useState(false);
  const latest = history.data?.items[0];
  const setBy = latest && latest.version === document.version ? latest : undefined;
  return (
    <div className="config-current">
      <p>
        <strong>Version {document.version}</strong>
        {document.version === 0 ? (
          ': nothing was ever set, so these are the defaults.'
        ) : setBy ? (
          <>
            , set by {setBy.author}{' '}
            <time dateTime={setBy.at} title={new Date(setBy.at).toLocaleString()}>
              {formatAgo(setBy.at, now)}
            </time>
            : “{setBy.reason}”
          </>
        ) : (
          '.'
        )}
      </p>
      <button
        type="button"
        className="secondary small-button"
        disabled={reloading}
        aria-busy={reloading}
        onClick={async () => {
          setReloading(true);
          await reload().finally(() => setReloading(false));
        }}
      >
        Reload
      </button>
    </div>
  );
}

/** The values of `document` as JSON to edit, with a reason, saved against `document.version`. */
function ConfigEditor({
  document,
  reason,
  onReason,
  onSaved,
}: {
  document: ConfigDocument;
  reason: string;
  onReason: (reason: string) => void;
  onSaved: (version: number) => void;
}) {
  const [text, setText] = useState(() => JSON.stringify(document.values, null, 2));
  const [valueErrors, setValueErrors] = useState<string[]>([]);
  const [reasonError, setReasonError] = useState<string | undefined>();
  const [failure, setFailure] = useState<unknown>(null);
  const [stale, setStale] = useState(false);
  const save = useSaveConfig(document.service);
  const reload = useReloadConfig(document.service);
  const form = useRef<HTMLFormElement>(null);
  const id = useId();
  const errorsId = `${id}-errors`;

  useEffect(() => {
    if (valueErrors.length > 0 || reasonError)
      form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [valueErrors, reasonError]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFailure(null);
    setStale(false);
    const parsed = parseValues(text);
    const why = reason.trim() ? undefined : 'enter a reason: it is kept in the history';
    setValueErrors(parsed.ok ? [] : [parsed.message]);
    setReasonError(why);
    if (!parsed.ok || why) return;
    try {
      const saved = await save.mutateAsync({
        values: parsed.values,
        reason: reason.trim(),
        expectedVersion: document.version,
      });
      onSaved(saved.version);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setStale(true);
        return;
      }
      const values: string[] = [];
      let why: string | undefined;
      for (const f of err instanceof ApiError ? err.fields : []) {
        const place = configFieldPlace(f.path);
        if (place.field === 'reason') why = f.message;
        else values.push(`${place.path}: ${f.message}`);
      }
      setValueErrors(values);
      setReasonError(why);
      if (values.length === 0 && !why) setFailure(err);
    }
  }

  return (
    <form ref={form} className="config-editor" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={id}>Values (JSON)</label>
        <p className="field-hint" id={`${id}-hint`}>
          The values replace the current ones whole; a field left out takes its default.
        </p>
        <textarea
          id={id}
          className="json-editor"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={Math.min(30, Math.max(8, text.split('\n').length + 1))}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          aria-invalid={valueErrors.length > 0}
          aria-describedby={`${id}-hint${valueErrors.length > 0 ? ` ${errorsId}` : ''}`}
        />
        {valueErrors.length > 0 && (
          <ul className="field-error" id={errorsId}>
            {valueErrors.map((message) => (
              <li key={message}>{message}</li>
            ))}
          </ul>
        )}
      </div>
      <Field label="Reason" error={reasonError} hint="Why you change it, for whoever reads the history.">
        {(props) => (
          <input
            {...props}
            value={reason}
            onChange={(e) => onReason(e.target.value)}
            maxLength={500}
            required
            autoComplete="off"
          />
        )}
      </Field>
      {stale && (
        <div className="error-note" role="alert">
          <p>
            Someone changed it meanwhile: reload to see their version, then make your change again (your text
            is replaced by the newest values).
          </p>
          <button type="button" onClick={() => void reload()}>
            Reload
          </button>
        </div>
      )}
      {failure !== null && <ErrorNote error={failure} />}
      <button type="submit" disabled={save.isPending} aria-busy={save.isPending}>
        Save
      </button>
    </form>
  );
}

/** The text as a JSON object, or why it is not one. */
function parseValues(
  text: string,
): { ok: true; values: Record<string, unknown> } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `the values are not valid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, message: 'the values must be a JSON object, like {"logLevel": "info"}' };
  return { ok: true, values: value as Record<string, unknown> };
}

/** Every field the service accepts, what it takes and its default, folded away until asked for. */
function SchemaReference({ schema }: { schema: SchemaNode }) {
  const fields = schemaFields(schema);
  return (
    <details className="schema-reference">
      <summary>What can be set</summary>
      <dl className="schema-fields">
        {fields.map((f) => (
          <div key={f.path}>
            <dt>
              <code>{f.path}</code>
            </dt>
            <dd>
              {f.accepts}
              {f.defaultText !== null && (
                <>
                  ; default <code>{f.defaultText}</code>
                </>
              )}
            </dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
