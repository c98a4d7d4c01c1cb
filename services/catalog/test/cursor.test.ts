import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor, InvalidCursorError, type ProductCursor } from '../src/domain/cursor.ts';

const newest: ProductCursor = {
  kind: 'newest',
  createdAt: '2025-03-04T05:06:07.089Z',
  id: '0b6f3c4e-9d1a-4c55-8f2e-3a7b9c1d2e4f',
};
const rank: ProductCursor = { kind: 'rank', rank: '0.607927', id: '0b6f3c4e-9d1a-4c55-8f2e-3a7b9c1d2e4f' };

function reencode(wire: unknown): string {
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

test('a newest-first cursor decodes to the position it was made from', () => {
  const text = encodeCursor(newest);
  assert.match(text, /^[A-Za-z0-9_-]+$/, 'safe to put in a query string as is');
  assert.deepEqual(decodeCursor(text, 'newest'), newest);
});

test('a search cursor keeps the rank exactly as the database wrote it', () => {
  assert.deepEqual(decodeCursor(encodeCursor(rank), 'rank'), rank);
  const zero: ProductCursor = { ...rank, rank: '0.000000' };
  assert.deepEqual(decodeCursor(encodeCursor(zero), 'rank'), zero);
});

test('a tampered cursor is rejected', () => {
  const text = encodeCursor(newest);
  const flipped = text.slice(0, 5) + (text[5] === 'A' ? 'B' : 'A') + text.slice(6);
  assert.throws(() => decodeCursor(flipped, 'newest'), InvalidCursorError);
  assert.throws(() => decodeCursor(text.slice(0, -4), 'newest'), InvalidCursorError);
  assert.throws(() => decodeCursor(`${text}!`, 'newest'), InvalidCursorError);
});

test('a well-formed JSON that is not a position is rejected', () => {
  const bad = [
    { k: 'n', t: newest.createdAt, i: 'not-a-uuid' },
    { k: 'n', t: 'yesterday', i: newest.id },
    { k: 'n', t: '2025-13-45T99:99:99Z', i: newest.id },
    { k: 'r', r: '1e9', i: newest.id },
    { k: 'r', r: 0.5, i: newest.id },
    { k: 'x', t: newest.createdAt, i: newest.id },
    [1, 2, 3],
    null,
    'n',
  ];
  for (const wire of bad) {
    assert.throws(() => decodeCursor(reencode(wire), 'newest'), InvalidCursorError, JSON.stringify(wire));
    assert.throws(() => decodeCursor(reencode(wire), 'rank'), InvalidCursorError, JSON.stringify(wire));
  }
});

test('garbage, empty and oversized input is rejected', () => {
  for (const text of ['', 'abc', '%%%', 'eyJ', 'x'.repeat(600), reencode('{"k":"n"')]) {
    assert.throws(() => decodeCursor(text, 'newest'), InvalidCursorError, text.slice(0, 20));
  }
});

test('a cursor from a listing cannot continue a search, nor the other way round', () => {
  assert.throws(() => decodeCursor(encodeCursor(newest), 'rank'), /without `q`/);
  assert.throws(() => decodeCursor(encodeCursor(rank), 'newest'), /with `q`/);
});
