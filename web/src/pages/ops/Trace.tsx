/**
 * `/ops/traces/:traceId` (admins): one trace as a waterfall. Each span is a row, nested under its
 * parent and ordered by start, with a bar where it ran within the trace, coloured by service (a
 * legend names the colours) and marked in words when it failed. Opening a span shows its details
 * and attributes below its row.
 */
import type { OpsSpan, OpsTrace } from '@bazaar/contracts';
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Empty, ErrorNote, Loading, PageTitle } from '../../components/ui.tsx';
import { ApiError } from '../../lib/api.ts';
import { useTrace } from '../../lib/ops.ts';
import { formatMs } from '../../lib/ops-text.ts';
import { layoutWaterfall, type Waterfall, type WaterfallRow, waterfallTicks } from '../../lib/waterfall.ts';
import { TraceStatus } from './TraceStatus.tsx';

/** How many service colours the stylesheet has (`.svc-0` … `.svc-7`); more services reuse them. */
const COLOURS = 8;
/** Deeper spans are indented no further, so the names keep room on a phone. */
const MAX_INDENT = 8;

/** The trace page (lazy-loaded by App). */
export default function OpsTracePage() {
  const { traceId = '' } = useParams();
  const trace = useTrace(traceId);
  if (trace.isPending) return <Loading label="Loading the trace…" />;
  if (trace.error) {
    const missing = trace.error instanceof ApiError && trace.error.status === 404;
    return (
      <section className="console ops">
        <PageTitle>{missing ? 'Trace not found' : 'Trace'}</PageTitle>
        {missing ? (
          <p>
            The collector does not keep a trace with the id <code className="trace-id">{traceId}</code>. It
            keeps recent traces only.
          </p>
        ) : (
          <ErrorNote error={trace.error} retry={() => void trace.refetch()} />
        )}
        <p>
          <Link to="/ops/traces">Search the traces</Link>
        </p>
      </section>
    );
  }
  return <TraceView trace={trace.data} />;
}

function TraceView({ trace }: { trace: OpsTrace }) {
  const waterfall = useMemo(() => layoutWaterfall(trace.spans), [trace.spans]);
  const root = waterfall.rows[0]?.span;
  const failed = trace.spans.filter((s) => s.status === 'error').length;
  const started = trace.spans.reduce<string | null>(
    (first, s) => (first === null || Date.parse(s.startTime) < Date.parse(first) ? s.startTime : first),
    null,
  );
  return (
    <section className="console ops">
      <PageTitle title={`Trace ${trace.traceId.slice(0, 8)}`}>
        {root ? `${root.service}: ${root.name}` : 'An empty trace'}
      </PageTitle>
      <p>
        <Link to="/ops/traces">Back to the traces</Link>
      </p>
      <dl className="order-facts trace-facts">
        <div>
          <dt>Trace id</dt>
          <dd>
            <code className="trace-id">{trace.traceId}</code>
          </dd>
        </div>
        {started && (
          <div>
            <dt>Started</dt>
            <dd>
              <time dateTime={started}>{new Date(started).toLocaleString()}</time>
            </dd>
          </div>
        )}
        <div>
          <dt>Duration</dt>
          <dd>{formatMs(waterfall.totalMs)}</dd>
        </div>
        <div>
          <dt>Spans</dt>
          <dd>{trace.spans.length}</dd>
        </div>
        <div>
          <dt>Outcome</dt>
          <dd>
            <TraceStatus error={failed > 0} />
            {failed > 0 && ` (${failed} ${failed === 1 ? 'span' : 'spans'} failed)`}
          </dd>
        </div>
      </dl>
      {trace.spans.length === 0 ? (
        <Empty>The collector kept no span of this trace.</Empty>
      ) : (
        <section aria-labelledby="waterfall-heading">
          <h2 id="waterfall-heading">Waterfall</h2>
          <Legend waterfall={waterfall} />
          <WaterfallList waterfall={waterfall} />
        </section>
      )}
    </section>
  );
}

function Legend({ waterfall }: { waterfall: Waterfall }) {
  const counts = new Map<string, number>();
  for (const row of waterfall.rows) counts.set(row.span.service, (counts.get(row.span.service) ?? 0) + 1);
  return (
    <ul className="wf-legend plain-list" aria-label="Services in this trace">
      {waterfall.services.map((service, i) => (
        <li key={service}>
          <span className={`wf-swatch svc-${i % COLOURS}`} aria-hidden="true" />
          {service} <span className="muted">({counts.get(service)})</span>
        </li>
      ))}
    </ul>
  );
}

function WaterfallList({ waterfall }: { waterfall: Waterfall }) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <div className="waterfall">
      <div className="wf-axis" aria-hidden="true">
        <div className="wf-axis-track">
          {waterfallTicks(waterfall.totalMs).map((tick) => (
            <span
              key={tick.pct}
              className={`wf-tick ${tickClass(tick.pct)}`}
              style={{ left: `${tick.pct}%` }}
            >
              {formatMs(tick.ms)}
            </span>
          ))}
        </div>
      </div>
      <ol className="wf-rows plain-list" aria-label="Spans, nested under their parents and ordered by start">
        {waterfall.rows.map((row) => (
          <SpanRow
            key={row.span.spanId}
            row={row}
            open={open === row.span.spanId}
            onToggle={() => setOpen((current) => (current === row.span.spanId ? null : row.span.spanId))}
          />
        ))}
      </ol>
    </div>
  );
}

/** The first and last ticks are aligned inwards; the quarter ticks are left out on a phone. */
function tickClass(pct: number): string {
  if (pct === 0) return 'wf-tick-first';
  if (pct === 100) return 'wf-tick-last';
  return pct === 50 ? '' : 'wf-tick-minor';
}

function SpanRow({ row, open, onToggle }: { row: WaterfallRow; open: boolean; onToggle: () => void }) {
  const { span } = row;
  const failed = span.status === 'error';
  const colour = `svc-${row.serviceIndex % COLOURS}`;
  const details = `span-${span.spanId}`;
  return (
    <li className={`wf-row${failed ? ' wf-failed' : ''}${open ? ' wf-open' : ''}`}>
      <div className="wf-line">
        <div className="wf-label" style={{ paddingLeft: `${Math.min(row.depth, MAX_INDENT) * 0.8}rem` }}>
          <button
            type="button"
            className="wf-span"
            aria-expanded={open}
            aria-controls={details}
            onClick={onToggle}
          >
            <span className={`wf-swatch ${colour}`} aria-hidden="true" />
            <span className="visually-hidden">Level {row.depth + 1}: </span>
            <span className="wf-service">{span.service}</span>{' '}
            <span className="wf-name" title={span.name}>
              {span.name}
            </span>
            {failed && <span className="wf-error-mark"> ✕ error</span>}
          </button>
        </div>
        <div className="wf-track" aria-hidden="true">
          <span
            className={`wf-bar ${colour}`}
            style={{ left: `min(${row.leftPct}%, calc(100% - 3px))`, width: `${row.widthPct}%` }}
          />
        </div>
        <div className="wf-duration">
          {formatMs(span.durationMs)}
          <span className="visually-hidden">, from {formatMs(span.offsetMs)} into the trace</span>
        </div>
      </div>
      <div id={details} hidden={!open} className="wf-details">
        {open && <SpanDetails span={span} />}
      </div>
    </li>
  );
}

function SpanDetails({ span }: { span: OpsSpan }) {
  const attributes = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <dl className="span-facts">
        <div>
          <dt>Service</dt>
          <dd>{span.service}</dd>
        </div>
        <div>
          <dt>Instance</dt>
          <dd>
            <code>{span.instance}</code>
          </dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>{span.kind}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{span.status === 'error' ? 'error' : span.status === 'ok' ? 'ok' : 'not set'}</dd>
        </div>
        <div>
          <dt>Starts</dt>
          <dd>
            {formatMs(span.offsetMs)} into the trace (
            <time dateTime={span.startTime}>{new Date(span.startTime).toLocaleTimeString()}</time>)
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatMs(span.durationMs)}</dd>
        </div>
        <div>
          <dt>Span id</dt>
          <dd>
            <code>{span.spanId}</code>
          </dd>
        </div>
        <div>
          <dt>Parent</dt>
          <dd>{span.parentSpanId ? <code>{span.parentSpanId}</code> : 'none (a root)'}</dd>
        </div>
      </dl>
      <h3 className="span-attributes-heading">Attributes of {span.name}</h3>
      {attributes.length === 0 ? (
        <p className="muted">This span has no attributes.</p>
      ) : (
        <dl className="span-attributes">
          {attributes.map(([key, value]) => (
            <div key={key}>
              <dt>
                <code>{key}</code>
              </dt>
              <dd>{String(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </>
  );
}
