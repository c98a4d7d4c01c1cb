/** Small pieces every page uses: money, page titles, loading, empty and error states. */
import { type ReactNode, useEffect } from 'react';
import { errorSentence } from '../lib/api.ts';

const formatters = new Map<string, Intl.NumberFormat>();

/** Formats integer minor units in `currency` for the browser's locale. */
export function formatMoney(minor: number, currency: string): string {
  let f = formatters.get(currency);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    formatters.set(currency, f);
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(minor / 10 ** digits);
}

export function Money({ amount, currency }: { amount: number; currency: string }) {
  return <span className="money">{formatMoney(amount, currency)}</span>;
}

/** Sets the document title and renders the page's one `h1`. */
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const text = title ?? (typeof children === 'string' ? children : 'Bazaar');
  useEffect(() => {
    document.title = `${text} · Bazaar`;
  }, [text]);
  return <h1>{children}</h1>;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="error-note" role="alert">
      <p>{errorSentence(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Loading, error or the content of one query. */
export function QueryState<T>({
  query,
  children,
  loadingLabel,
}: {
  query: { isPending: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  children: (data: T) => ReactNode;
  loadingLabel?: string;
}) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.error) return <ErrorNote error={query.error} retry={() => void query.refetch()} />;
  return <>{children(query.data as T)}</>;
}
