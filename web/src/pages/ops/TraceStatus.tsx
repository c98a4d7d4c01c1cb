/** A trace's or span's outcome as the ops console shows it. */

/**
 * "✓ ok" or "✕ error" (in words, not by colour alone), then the root request's HTTP status when
 * there is one: a trace can fail in a span and still answer 201 after a retry.
 */
export function TraceStatus({ error, httpStatus }: { error: boolean; httpStatus?: number | null }) {
  return (
    <>
      <span className={`status ${error ? 'status-error' : 'status-ok'}`}>{error ? '✕ error' : '✓ ok'}</span>
      {httpStatus !== null && httpStatus !== undefined && (
        <span className="http-status">HTTP {httpStatus}</span>
      )}
    </>
  );
}
