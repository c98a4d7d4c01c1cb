/** A position in a list ordered by (createdAt, id). */
export interface Position {
  createdAt: string;
  id: string;
}

/** A cursor that cannot be read. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The opaque cursor of the row after which the next page starts. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}. */
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
    Number.isNaN(Date.parse(parsed[0])) ||
    typeof parsed[1] !== 'string' ||
    !UUID.test(parsed[1])
  ) {
    throw new InvalidCursorError('is not a cursor this list gave out');
  }
  return { createdAt: parsed[0], id: parsed[1] };
}
