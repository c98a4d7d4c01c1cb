/**
 * The opaque keyset cursor of a list ordered newest first (created_at DESC, id DESC): base64url of
 * the last row's creation time and id. Not signed: a forged cursor is only another position in
 * the caller's own list. Lists ordered otherwise (catalog's search by rank) keep their own.
 */

/** Where a newest-first list resumes. */
export interface Position {
  /** ISO 8601 timestamp in UTC, millisecond precision. */
  createdAt: string;
  id: string;
}

/** A cursor that could not be read; routes answer it with 400 on `querystring/cursor`. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The opaque `nextCursor` of the row after which the next page starts. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** Reads a cursor made by `encodeCursor`; throws `InvalidCursorError` for anything else. */
export function decodeCursor(cursor: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('is not a cursor this list gave out');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    !ISO_UTC.test(parsed[0]) ||
    Number.isNaN(Date.parse(parsed[0])) ||
    typeof parsed[1] !== 'string' ||
    !UUID.test(parsed[1].toLowerCase())
  ) {
    throw new InvalidCursorError('is not a cursor this list gave out');
  }
  return { createdAt: parsed[0], id: parsed[1] };
}
