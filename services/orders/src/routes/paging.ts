import { decodeCursor, encodeCursor, InvalidCursorError, type Position } from '@bazaar/contracts';
import { AppError } from '@bazaar/kit';

/** The position a `?cursor=` names; a 400 on `querystring/cursor` when it is not one of ours. */
export function readCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined;
  try {
    return decodeCursor(cursor);
  } catch (error) {
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new AppError('VALIDATION_FAILED', 'The request has invalid fields.', {
      errors: [{ path: 'querystring/cursor', message: error.message }],
    });
  }
}

/** The `nextCursor` of a page: where the next one starts, or null at the end. */
export function nextCursor(next: Position | undefined): string | null {
  return next ? encodeCursor(next) : null;
}
