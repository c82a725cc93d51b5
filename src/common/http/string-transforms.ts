import { Transform } from 'class-transformer';

/** Emails arrive in any case and with stray spaces; they are kept trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const NormalizeEmail = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? normalizeEmail(value) : value,
  );

export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Names and labels: printable text, no control characters (newlines, NUL, escapes). */
export const PRINTABLE = /^[^\p{Cc}]*$/u;
