import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { from, mergeMap, Observable, of, switchMap } from 'rxjs';
import type { Principal } from '../../auth/principal';
import { HttpRequest } from '../http/http-request';
import { CacheService } from './cache.service';
import { CACHED_KEY, CachedOptions } from './cached.decorator';

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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.get<CachedOptions | undefined>(CACHED_KEY, context.getHandler());
    const request = context.switchToHttp().getRequest<HttpRequest & { user?: Principal }>();
    if (!options || request.method !== 'GET') return next.handle();
    const response: unknown = context.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    // request.url carries the version (/v1/...), even when the X-API-Version header chose it.
    const key = `http:${principalKey(request.user)}:${request.url}`;
    return from(this.cache.lookup<unknown>(key, options.tags)).pipe(
      switchMap((lookup) => {
        if (lookup.hit) {
          adapter.setHeader(response, 'X-Cache', 'HIT');
          return of(lookup.value);
        }
        // Stored before the response is sent: no cache write outlives its request (or shutdown).
        // An error answer is neither cached nor marked.
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            adapter.setHeader(response, 'X-Cache', 'MISS');
            if (statusOf(response) === 200) await lookup.store(body, options.ttlSeconds);
            return body;
          }),
        );
      }),
    );
  }
}

function principalKey(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.id}`;
}

/** Express responses and Fastify replies both expose statusCode. */
function statusOf(response: unknown): number | undefined {
  return (response as { statusCode?: number }).statusCode;
}
