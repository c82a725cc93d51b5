import { ValidationFailed } from '../common/errors/domain-errors';
import { decodeUserCursor, encodeUserCursor } from './user-cursor';

const ID = '0190a4c2-7b1e-7c3d-9f00-1234567890ab';
const encode = (text: string) => Buffer.from(text).toString('base64url');

/** What decoding throws, or undefined. */
function refusal(cursor: string): unknown {
  try {
    decodeUserCursor(cursor);
    return undefined;
  } catch (error) {
    return error;
  }
}

const CURSOR_REFUSED = expect.objectContaining({
  status: 400,
  code: 'VALIDATION_FAILED',
  errors: [{ field: 'cursor', message: 'cursor is not a cursor this API returned' }],
});

describe('user cursors', () => {
  it.each([
    '2026-11-26T15:05:54.182345Z',
    '2024-02-29T00:00:00.000000Z',
    '2000-02-29T23:59:59.999999Z',
    '0001-01-01T00:00:00.000000Z',
    '9999-12-31T23:59:59.999999Z',
  ])('gives back the position of a cursor it encoded (%s)', (at) => {
    expect(decodeUserCursor(encodeUserCursor(at, ID))).toEqual([at, ID]);
  });

  it.each([
    ['February 30', '2024-02-30T00:00:00.000000Z'],
    ['February 29 of a common year', '2023-02-29T00:00:00.000000Z'],
    ['February 29 of a century that is not a leap year', '1900-02-29T00:00:00.000000Z'],
    ['April 31', '2024-04-31T00:00:00.000000Z'],
    ['month 13', '2024-13-01T00:00:00.000000Z'],
    ['month 0', '2024-00-10T00:00:00.000000Z'],
    ['day 0', '2024-01-00T00:00:00.000000Z'],
    ['year 0', '0000-01-01T00:00:00.000000Z'],
    ['hour 24', '2024-01-01T24:00:00.000000Z'],
    ['minute 60', '2024-01-01T00:60:00.000000Z'],
    ['a leap second', '2024-12-31T23:59:60.000000Z'],
    ['milliseconds only', '2024-01-01T00:00:00.000Z'],
    ['an offset instead of Z', '2024-01-01T00:00:00.000000+01:00'],
  ])('refuses %s with 400 VALIDATION_FAILED on cursor', (_case, at) => {
    const error = refusal(encode(`${at}|${ID}`));
    expect(error).toBeInstanceOf(ValidationFailed);
    expect(error).toEqual(CURSOR_REFUSED);
  });

  it.each([
    ['an uppercase id', encode(`2024-01-01T00:00:00.000000Z|${ID.toUpperCase()}`)],
    ['a third part', encode(`2024-01-01T00:00:00.000000Z|${ID}|x`)],
    ['no id', encode('2024-01-01T00:00:00.000000Z')],
    ['padding the API never writes', `${encode(`2024-01-01T00:00:00.000000Z|${ID}`)}=`],
  ])('refuses a cursor with %s', (_case, cursor) => {
    expect(refusal(cursor)).toEqual(CURSOR_REFUSED);
  });
});
