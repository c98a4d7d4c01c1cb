/**
 * `/ops/traces` (admins): a search of the recent traces the embedded collector keeps (by trace id,
 * service, route, status, minimum duration; newest or slowest first) and the traces found, each
 * linking to its waterfall. The search lives in the page's address.
 */
import type { OpsTraceQuery, OpsTraceSummary } from '@bazaar/contracts';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Field } from '../../components/Field.tsx';
import { Empty, ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { useNow, useServiceNames, useTraces } from '../../lib/ops.ts';
import { formatAgo, formatMs } from '../../lib/ops-text.ts';
import {
  readTraceSearch,
  searchFromParams,
  type TraceSearch,
  type TraceSearchProblems,
  traceQueryParams,
} from '../../lib/traces.ts';
import { TraceStatus } from './TraceStatus.tsx';

/** The traces page (lazy-loaded by App). */
export default function OpsTracesPage() {
  const [params, setParams] = useSearchParams();
  const search = useMemo(() => searchFromParams(params), [params]);
  const read = readTraceSearch(search);
  // An address typed by hand may not read; then nothing is searched until the form is fixed.
  const query = read.ok ? read.query : null;
  return (
    <section className="console ops">
      <PageTitle>Traces</PageTitle>
      <p className="lead">
        Recent requests as the collector keeps them. Errors are always kept; other traces may be sampled.
      </p>
      <TraceSearchForm
        key={params.toString()}
        initial={search}
        initialProblems={read.ok ? {} : read.problems}
        onSearch={(q) => setParams(traceQueryParams(q))}
      />
      <section aria-labelledby="found-heading">
        <h2 id="found-heading">Traces found</h2>
        {query ? <TraceResults query={query} /> : <Empty>Fix the search above to see traces.</Empty>}
      </section>
    </section>
  );
}

function TraceSearchForm({
  initial,
  initialProblems,
  onSearch,
}: {
  initial: TraceSearch;
  initialProblems: TraceSearchProblems;
  onSearch: (query: OpsTraceQuery) => void;
}) {
  const [draft, setDraft] = useState(initial);
  const [problems, setProblems] = useState(initialProblems);
  const [tries, setTries] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const services = useServiceNames();
  const names = services.data ?? [];
  const edit =
    <K extends keyof TraceSearch>(key: K) =>
    (value: TraceSearch[K]) =>
      setDraft((d) => ({ ...d, [key]: value }));

  // Take keyboard and screen-reader users to the first field that needs fixing.
  useEffect(() => {
    if (tries > 0) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [tries]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const read = readTraceSearch(draft);
    if (!read.ok) {
      setProblems(read.problems);
      setTries((n) => n + 1);
      return;
    }
    setProblems({});
    onSearch(read.query);
  }

  return (
    <form ref={form} className="trace-search" onSubmit={submit} noValidate aria-label="Search traces">
      <Field label="Trace id (or its start)" error={problems.traceId} className="wide">
        {(props) => (
          <input
            {...props}
            value={draft.traceId}
            onChange={(e) => edit('traceId')(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            maxLength={32}
          />
        )}
      </Field>
      <Field label="Service" error={problems.service}>
        {(props) => (
          <select {...props} value={draft.service} onChange={(e) => edit('service')(e.target.value)}>
            <option value="">Any service</option>
            {draft.service && !names.includes(draft.service) && (
              <option value={draft.service}>{draft.service}</option>
            )}
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Route" error={problems.route} className="wide">
        {(props) => (
          <input
            {...props}
            value={draft.route}
            onChange={(e) => edit('route')(e.target.value)}
            placeholder="/api/orders"
            autoComplete="off"
            spellCheck={false}
            maxLength={256}
          />
        )}
      </Field>
      <Field label="Status">
        {(props) => (
          <select
            {...props}
            value={draft.status}
            onChange={(e) => edit('status')(e.target.value as TraceSearch['status'])}
          >
            <option value="">Any status</option>
            <option value="ok">Succeeded</option>
            <option value="error">Failed</option>
          </select>
        )}
      </Field>
      <Field label="Minimum duration (ms)" error={problems.minDurationMs}>
        {(props) => (
          <input
            {...props}
            value={draft.minDurationMs}
            onChange={(e) => edit('minDurationMs')(e.target.value)}
            inputMode="decimal"
            autoComplete="off"
          />
        )}
      </Field>
      <Field label="Order">
        {(props) => (
          <select
            {...props}
            value={draft.sort}
            onChange={(e) => edit('sort')(e.target.value as TraceSearch['sort'])}
          >
            <option value="recent">Newest first</option>
            <option value="slowest">Slowest first</option>
          </select>
        )}
      </Field>
      <p className="trace-search-buttons">
        <button type="submit">Search</button>
      </p>
    </form>
  );
}

function TraceResults({ query }: { query: OpsTraceQuery }) {
  const traces = useTraces(query);
  const now = useNow(5000);
  if (traces.isPending) return <Loading label="Loading traces…" />;
  if (traces.error) return <ErrorNote error={traces.error} retry={() => void traces.refetch()} />;
  const items = traces.data.pages.flatMap((page) => page.items);
  return (
    <>
      <p className="trace-refresh">
        <button
          type="button"
          className="secondary small-button"
          onClick={() => void traces.refetch()}
          disabled={traces.isFetching}
          aria-busy={traces.isFetching}
        >
          Refresh
        </button>
        <span className="muted fine-print" role="status">
          {traces.isFetching ? 'Refreshing…' : `${items.length} ${items.length === 1 ? 'trace' : 'traces'}`}
        </span>
      </p>
      {items.length === 0 ? (
        <Empty>No trace matches this search.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="traces">
            <caption className="visually-hidden">Traces found</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Trace</th>
                <th scope="col">Route</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col" className="num">
                  Spans
                </th>
                <th scope="col">Services</th>
              </tr>
            </thead>
            <tbody>
              {items.map((trace) => (
                <TraceRow key={trace.traceId} trace={trace} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {traces.hasNextPage ? (
        <p>
          <button
            type="button"
            className="secondary"
            onClick={() => void traces.fetchNextPage()}
            disabled={traces.isFetchingNextPage}
            aria-busy={traces.isFetchingNextPage}
          >
            {traces.isFetchingNextPage ? 'Loading…' : 'More traces'}
          </button>
        </p>
      ) : null}
    </>
  );
}

function TraceRow({ trace, now }: { trace: OpsTraceSummary; now: number }) {
  return (
    <tr>
      <td>
        <time dateTime={trace.startTime} title={new Date(trace.startTime).toLocaleString()}>
          {formatAgo(trace.startTime, now)}
        </time>
      </td>
      <th scope="row">
        <Link to={`/ops/traces/${trace.traceId}`}>
          {trace.service}: {trace.name}
        </Link>
        <br />
        <code className="fine-print muted">{trace.traceId.slice(0, 12)}</code>
      </th>
      <td>{trace.route ?? '—'}</td>
      <td>
        <TraceStatus error={trace.error} httpStatus={trace.httpStatus} />
      </td>
      <td className="num">{formatMs(trace.durationMs)}</td>
      <td className="num">{trace.spanCount}</td>
      <td>{trace.services.join(', ')}</td>
    </tr>
  );
}
