import { ValidationFailed } from '../common/errors/domain-errors';

/** What `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` writes. */
const CURSOR_AT = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The keyset position after a row of GET /v2/users: its createdAt (µs, UTC) and id. */
export function encodeUserCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

/**
 * The `[createdAt, id]` of a cursor this API returned, else 400 VALIDATION_FAILED on `cursor`.
 * Strict: encoding the parts again must give the cursor back, and the date must exist, so
 * PostgreSQL never sees a value it refuses (a 500) or reads differently (2024-02-30 as March 1).
 */
export function decodeUserCursor(cursor: string): [string, string] {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  const valid =
    rest.length === 0 &&
    isCursorTime(at) &&
    UUID.test(id ?? '') &&
    encodeUserCursor(at, id) === cursor;
  if (!valid)
    throw new ValidationFailed([
      { field: 'cursor', message: 'cursor is not a cursor this API returned' },
    ]);
  return [at, id];
}

/** A real UTC instant written in the cursor's form: no February 30, hour 24 or year 0. */
function isCursorTime(at: string): boolean {
  const match = CURSOR_AT.exec(at);
  if (!match) return false;
  const [year, month, day, hour, minute, second, millis] = match.slice(1).map(Number);
  // PostgreSQL has no year 0 (1 BC comes before AD 1), and to_char's YYYY never writes one.
  if (year < 1) return false;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: that one maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  // Out-of-range fields roll over (February 30 becomes March 1), so the text no longer matches.
  return date.toISOString() === `${at.slice(0, 23)}Z`;
}
