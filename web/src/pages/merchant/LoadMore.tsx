/** The "Load more" button under the console's cursor-paged tables, busy while a page loads. */
export function LoadMore({ loading, onClick }: { loading: boolean; onClick: () => void }) {
  return (
    <div className="pager">
      <button type="button" className="secondary" onClick={onClick} disabled={loading} aria-busy={loading}>
        Load more
      </button>
      {loading && (
        <span className="muted" role="status">
          Loading…
        </span>
      )}
    </div>
  );
}
