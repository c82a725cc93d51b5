import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { HttpCacheInterceptor } from './http-cache.interceptor';

export const CACHED_KEY = 'keel:cached';

export interface CachedOptions {
  ttlSeconds: number;
  /** Writes that invalidate one of these tags make the cached responses stale. */
  tags: string[];
}

/**
 * Caches a GET route's 200 responses per principal, API version and URL (with query), for
 * `ttlSeconds`; responses carry X-Cache: HIT or MISS.
 */
export function Cached(options: CachedOptions) {
  return applyDecorators(
    SetMetadata(CACHED_KEY, options),
    UseInterceptors(HttpCacheInterceptor),
    ApiResponse({
      status: 200,
      description: `Cached for ${options.ttlSeconds} s per caller`,
      headers: {
        'X-Cache': {
          description: 'HIT or MISS',
          schema: { type: 'string', enum: ['HIT', 'MISS'] },
        },
      },
    }),
    ApiHeader({ name: 'X-API-Version', required: false, description: 'Part of the cache key' }),
  );
}
