import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@bazaar/contracts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CONTROL = /\p{Cc}/u;

/** The one spelling of an email address we store and look up: trimmed, NFC, lower-cased. */
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

/** Why a normalised email address is not acceptable, or undefined when it is. */
export function emailProblem(email: string): string | undefined {
  if (email.length < 3 || email.length > 254) return 'must be 3 to 254 characters';
  if (!EMAIL.test(email)) return 'is not an email address';
  return undefined;
}

/** Why a new password is not acceptable, or undefined when it is (length counted in characters). */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}

/** A display name as stored: trimmed, inner runs of white space kept as they are. */
export function normalizeName(raw: string): string {
  return raw.trim().normalize('NFC');
}

/** Why a normalised display name is not acceptable, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length < 1 || length > 100) return 'must be 1 to 100 characters (not only spaces)';
  if (CONTROL.test(name)) return 'must not contain control characters';
  return undefined;
}
