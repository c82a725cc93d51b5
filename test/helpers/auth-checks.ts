import { createHash } from 'node:crypto';
import { countRows } from './identity';
import { TestApp } from './test-app';

/** A problem body without what differs per request (its id and path). */
export function withoutRequestSpecifics(body: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...body };
  delete copy.requestId;
  delete copy.instance;
  return copy;
}

/** Rows of every identity table, to assert that a refused request wrote nothing. */
export async function identityRowCounts(t: TestApp): Promise<Record<string, number>> {
  return {
    users: await countRows(t, 'users'),
    refresh_tokens: await countRows(t, 'refresh_tokens'),
    api_keys: await countRows(t, 'api_keys'),
  };
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `read` until it returns something other than undefined/null, or gives up (undefined). */
export async function eventually<T>(
  read: () => Promise<T | null | undefined>,
  timeoutMs = 2000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== null && value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(25);
  }
}
