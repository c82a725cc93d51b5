import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { from, mergeMap, Observable, of, switchMap } from 'rxjs';
import type { Principal } from '../../auth/principal';
import { HttpRequest } from '../http/http-request';
import { CacheLookup, CacheService } from './cache.service';
import { CACHED_KEY, CachedOptions } from './cached.decorator';

type CacheRequest = HttpRequest & { user?: Principal };

/** Who a cache entry belongs to: the user, or the API key (their scopes differ). */
type CacheOwner = Pick<Principal, 'id' | 'apiKeyId'>;

/**
 * Lookups started by prefetch(), by request, with the key they read. Shared by every instance:
 * `@Cached()` routes get the interceptor from their own module, AuthGuard from AppCacheModule.
 */
const started = new WeakMap<object, { key: string; lookup: Promise<CacheLookup<unknown>> }>();

/**
 * The stock CacheInterceptor keys by URL only and would serve one user's data to another; this
 * one keys by principal (user, or API key: their scopes differ), and by the versioned URL.
 */
@Injectable()
export class HttpCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: CacheService,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * Starts reading a cached route's entry for the owner a credential claims to be, before that
   * claim is confirmed: AuthGuard calls it beside its revocation check, so both reads travel in
   * one Redis round trip. Nothing is served from it unless the request passes every guard as that
   * owner (intercept() checks the key).
   */
  prefetch(context: ExecutionContext, owner: CacheOwner): void {
    const request = context.switchToHttp().getRequest<CacheRequest>();
    const options = this.optionsFor(context, request);
    if (!options || started.has(request)) return;
    const key = cacheKey(owner, request);
    started.set(request, { key, lookup: this.cache.lookup(key, options.tags) });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<CacheRequest>();
    const options = this.optionsFor(context, request);
    if (!options) return next.handle();
    const response: unknown = context.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const key = cacheKey(request.user, request);
    const early = started.get(request);
    const lookup = early?.key === key ? early.lookup : this.cache.lookup(key, options.tags);
    return from(lookup).pipe(
      switchMap((found) => {
        this.cache.count(found);
        if (found.hit) {
          adapter.setHeader(response, 'X-Cache', 'HIT');
          return of(found.value);
        }
        // Stored before the response is sent: no cache write outlives its request (or shutdown).
        // An error answer is neither cached nor marked.
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            adapter.setHeader(response, 'X-Cache', 'MISS');
            if (statusOf(response) === 200) await found.store(body, options.ttlSeconds);
            return body;
          }),
        );
      }),
    );
  }

  private optionsFor(context: ExecutionContext, request: CacheRequest): CachedOptions | undefined {
    if (request.method !== 'GET') return undefined;
    return this.reflector.get<CachedOptions | undefined>(CACHED_KEY, context.getHandler());
  }
}

/** request.url carries the version (/v1/...), even when the X-API-Version header chose it. */
function cacheKey(owner: CacheOwner | undefined, request: CacheRequest): string {
  return `http:${ownerKey(owner)}:${request.url}`;
}

function ownerKey(owner: CacheOwner | undefined): string {
  if (!owner) return 'anonymous';
  return owner.apiKeyId ? `key:${owner.apiKeyId}` : `user:${owner.id}`;
}

/** Express responses and Fastify replies both expose statusCode. */
function statusOf(response: unknown): number | undefined {
  return (response as { statusCode?: number }).statusCode;
}
