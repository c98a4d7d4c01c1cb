import { type Static, Type } from 'typebox';

/** One failed field of a request: where (a JSON pointer-like path) and why. */
export const FieldError = Type.Object({
  path: Type.String(),
  message: Type.String(),
});
export type FieldError = Static<typeof FieldError>;

/** An `application/problem+json` body (RFC 9457) with Bazaar's stable `code`. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldError)),
  },
  { $id: 'Problem', additionalProperties: true },
);
export type Problem = Static<typeof Problem>;

/** The media type of every error response. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
