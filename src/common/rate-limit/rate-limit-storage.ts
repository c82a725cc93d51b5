import type { ThrottlerStorage } from '@nestjs/throttler';

/** One window's hit: its bucket (window and caller), size (ms), limit and block (ms). */
export interface WindowHit {
  name: string;
  key: string;
  ttl: number;
  limit: number;
  blockDuration: number;
}

/** A window's count after the hit, as @nestjs/throttler's storages answer it (seconds). */
export type WindowRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * @nestjs/throttler's storage, counting every window a request falls in with one call, so a
 * request costs one Redis command however many windows apply. Records come back in the order of
 * the hits.
 */
export interface RateLimitStorage extends ThrottlerStorage {
  incrementAll(hits: readonly WindowHit[]): Promise<WindowRecord[]>;
}
