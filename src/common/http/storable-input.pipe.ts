import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailed } from '../errors/domain-errors';
import { FieldError } from '../errors/problem-details';

/** How deep a JSON body may nest: partners' webhook events nest a handful of levels. */
export const MAX_INPUT_DEPTH = 32;

/** NUL, or a UTF-16 surrogate without its other half (code units, hence no `u` flag). */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Runs before the ValidationPipe on every body, query and path parameter, and refuses what
 * would otherwise fail deep inside with a 500, or be stored altered:
 * - text PostgreSQL cannot hold: NUL (refused by text and jsonb) or an unpaired surrogate
 *   (refused by jsonb, turned into U+FFFD in text), in a value or a key;
 * - a body nested deeper than MAX_INPUT_DEPTH: 20 kB of JSON can nest 3,000 levels, which
 *   exhausts the stack of the recursive transformation, validation and ORM code behind.
 * 400 VALIDATION_FAILED naming the field, as the ValidationPipe would.
 */
@Injectable()
export class StorableInputPipe implements PipeTransform {
  transform(value: unknown, { type, data, metatype }: ArgumentMetadata): unknown {
    if (type === 'custom') return value;
    const error = unstorable(value, data ?? '') ?? inheritedName(value, metatype);
    if (error) throw new ValidationFailed([error]);
    return value;
  }
}

/**
 * A field of a DTO-typed body or query named like an Object.prototype member (`toString`,
 * `constructor`, `__proto__`...): class-validator's whitelist looks fields up in a plain object,
 * which inherits those names, so it would let them through as known fields.
 */
function inheritedName(value: unknown, metatype: unknown): FieldError | undefined {
  const dto = typeof metatype === 'function' && !BUILT_IN_TYPES.has(metatype);
  if (!dto || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const field = Object.keys(value).find((key) => key in Object.prototype);
  return field === undefined ? undefined : { field, message: `${field} is not allowed` };
}

const BUILT_IN_TYPES = new Set<unknown>([Object, String, Number, Boolean, Array]);

/** The first thing in `root` that cannot be stored, found without recursion. */
export function unstorable(root: unknown, rootPath = ''): FieldError | undefined {
  const pending: [value: unknown, path: string, depth: number][] = [[root, rootPath, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path, depth] = next;
    const field = path || 'body';
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return { field, message: `${field} ${TEXT_RULE}` };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth === MAX_INPUT_DEPTH) {
      return { field, message: `${field} nests deeper than ${MAX_INPUT_DEPTH} levels` };
    }
    for (const [key, child] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return { field, message: `a key in ${field} ${TEXT_RULE}` };
      pending.push([child, path ? `${path}.${key}` : key, depth + 1]);
    }
  }
  return undefined;
}

const TEXT_RULE = 'must not contain NUL characters or unpaired surrogates';
