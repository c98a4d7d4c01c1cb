/**
 * Opaque keyset cursors for product lists: base64url of a small JSON naming the last row of a page.
 * A cursor is not signed; it only says where to resume, so a forged one can do no more than any
 * other valid position. Anything that does not decode to a well-formed position is refused.
 */

import { isUuid } from './ids.ts';

/** Where a list ordered newest first (created_at DESC, id DESC) resumes. */
export interface NewestCursor {
  kind: 'newest';
  /** ISO 8601 timestamp in UTC, millisecond precision. */
  createdAt: string;
  id: string;
}

/** Where a search ordered by relevance (rank DESC, id DESC) resumes. */
export interface RankCursor {
  kind: 'rank';
  /** The rank as a decimal string, exactly as the database rounded it, so no float drift. */
  rank: string;
  id: string;
}

/** A position in a product list. */
export type ProductCursor = NewestCursor | RankCursor;

/** A cursor that could not be decoded; routes answer it with 400 on `/cursor`. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

const MAX_CURSOR_LENGTH = 512;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const DECIMAL = /^\d{1,6}(\.\d{1,12})?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Turns a position into the opaque string handed to clients as `nextCursor`. */
export function encodeCursor(cursor: ProductCursor): string {
  const wire =
    cursor.kind === 'newest'
      ? { k: 'n', t: cursor.createdAt, i: cursor.id }
      : { k: 'r', r: cursor.rank, i: cursor.id };
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
}

/**
 * Reads a cursor a client sent back. `expected` is the kind the current query orders by: a
 * search cursor makes no sense in a newest-first listing, and the other way round.
 * Throws `InvalidCursorError` for anything else.
 */
export function decodeCursor(text: string, expected: ProductCursor['kind']): ProductCursor {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !BASE64URL.test(text)) {
    throw new InvalidCursorError('is not a cursor this service issued');
  }
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('is not a cursor this service issued');
  }
  const cursor = fromWire(wire);
  if (cursor === undefined) throw new InvalidCursorError('is not a cursor this service issued');
  if (cursor.kind !== expected) {
    throw new InvalidCursorError(
      expected === 'rank'
        ? 'belongs to a listing without `q`; start the search without a cursor'
        : 'belongs to a search with `q`; start the listing without a cursor',
    );
  }
  return cursor;
}

function fromWire(wire: unknown): ProductCursor | undefined {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) return undefined;
  const { k, t, r, i } = wire as Record<string, unknown>;
  if (typeof i !== 'string' || !isUuid(i)) return undefined;
  if (k === 'n' && typeof t === 'string' && ISO_UTC.test(t) && !Number.isNaN(Date.parse(t))) {
    return { kind: 'newest', createdAt: t, id: i };
  }
  if (k === 'r' && typeof r === 'string' && DECIMAL.test(r)) {
    return { kind: 'rank', rank: r, id: i };
  }
  return undefined;
}
