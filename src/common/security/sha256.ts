import { createHash } from 'node:crypto';

/** Hex SHA-256: how refresh tokens and API-key secrets are kept (never the values themselves). */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
