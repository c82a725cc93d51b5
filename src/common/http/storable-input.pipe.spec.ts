import { ValidationFailed } from '../errors/domain-errors';
import { MAX_INPUT_DEPTH, StorableInputPipe, unstorable } from './storable-input.pipe';

function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('unstorable', () => {
  it('accepts ordinary text, emoji (paired surrogates), numbers and nesting up to the limit', () => {
    expect(unstorable({ name: 'Åsa 😀', tags: ['x', 'y'], n: 1, ok: true, none: null })).toBe(
      undefined,
    );
    expect(unstorable(nested(MAX_INPUT_DEPTH))).toBeUndefined();
  });

  it('names the field holding a NUL or an unpaired surrogate, in values and in keys', () => {
    expect(unstorable({ name: 'a\u0000b' })).toEqual({
      field: 'name',
      message: 'name must not contain NUL characters or unpaired surrogates',
    });
    expect(unstorable({ payload: { items: ['ok', 'x\ud800'] } })?.field).toBe('payload.items.1');
    expect(unstorable({ payload: { tail: '\udc00y' } })?.field).toBe('payload.tail');
    expect(unstorable({ payload: { 'k\u0000': 1 } })).toEqual({
      field: 'payload',
      message: 'a key in payload must not contain NUL characters or unpaired surrogates',
    });
    expect(unstorable('q\u0000', 'q')?.field).toBe('q');
  });

  it('refuses nesting beyond the limit, however deep, without exhausting the stack', () => {
    expect(unstorable(nested(MAX_INPUT_DEPTH + 1))?.message).toBe(
      `${'a.'.repeat(MAX_INPUT_DEPTH).slice(0, -1)} nests deeper than ${MAX_INPUT_DEPTH} levels`,
    );
    expect(unstorable(nested(100_000))?.message).toMatch(/nests deeper than 32 levels$/);
    expect(unstorable([[[[]]]], '')).toBeUndefined();
  });
});

describe('StorableInputPipe', () => {
  const pipe = new StorableInputPipe();

  it('passes values through unchanged', () => {
    const body = { email: 'a@b.co' };
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    expect(pipe.transform('7', { type: 'param', data: 'id' })).toBe('7');
  });

  it('throws VALIDATION_FAILED naming the parameter', () => {
    expect(() => pipe.transform('a\u0000', { type: 'query', data: 'q' })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'q', message: expect.stringContaining('NUL') }],
      }) as ValidationFailed,
    );
    expect(() => pipe.transform({ q: 'a\u0000' }, { type: 'query' })).toThrow(ValidationFailed);
  });

  it('refuses a DTO field named like an Object.prototype member, which the whitelist misses', () => {
    class Dto {
      name!: string;
    }
    for (const field of ['toString', 'constructor', 'valueOf', '__proto__', 'hasOwnProperty']) {
      const body = JSON.parse(`{"name":"x","${field}":1}`) as object;
      expect(() => pipe.transform(body, { type: 'body', metatype: Dto })).toThrow(
        expect.objectContaining({
          errors: [{ field, message: `${field} is not allowed` }],
        }) as ValidationFailed,
      );
    }
    // Free-form JSON (an inbound webhook's payload) may use any key.
    const payload = { constructor: 'a car maker' };
    expect(pipe.transform(payload, { type: 'body', metatype: Object })).toBe(payload);
    expect(pipe.transform(payload, { type: 'body' })).toBe(payload);
  });

  it('leaves custom parameters (the current user) alone', () => {
    const user = { name: 'a\u0000' };
    expect(pipe.transform(user, { type: 'custom' })).toBe(user);
  });
});
