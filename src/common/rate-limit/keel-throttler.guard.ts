import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerOptions,
  ThrottlerRequest,
} from '@nestjs/throttler';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { NO_RATE_LIMIT_KEY } from './rate-limit.decorators';
import { RateLimitStorage, WindowHit, WindowRecord } from './rate-limit-storage';

type Window = Omit<ThrottlerRequest, 'context'> & Pick<ThrottlerOptions, 'skipIf'>;

/**
 * @nestjs/throttler's guard, run after authentication (so limits follow the principal), with
 * a standard Retry-After and the blocking limit's X-RateLimit-* headers on a 429.
 *
 * Every window that applies is counted by one call to the storage (one Redis command), not one
 * round trip per window; the headers are the base guard's. A request one window refuses still
 * counts in the others; when several refuse, the shortest window (the base guard sorts them by
 * ttl) names the limit. Windows are configured in RateLimitModule only: the package's per-route
 * `@Throttle()` and `@SkipThrottle()` are not read (lint forbids them); routes use
 * `@NoRateLimit()` and `@StrictRateLimit()`.
 */
@Injectable()
export class KeelThrottlerGuard extends ThrottlerGuard {
  private readonly limited: Counter<'limit'>;
  /** Each configured window, resolved once at start. */
  private windows: Window[] = [];

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() private readonly storage: RateLimitStorage,
    reflector: Reflector,
    metrics: MetricsService,
  ) {
    super(options, storage, reflector);
    this.limited = metrics.counter({
      name: 'rate_limited_requests_total',
      help: 'Requests refused with 429, by the limit they exceeded.',
      labelNames: ['limit'],
    });
  }

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.windows = this.throttlers.map((throttler) => {
      const { name, limit, ttl, blockDuration = ttl } = throttler;
      if (
        typeof limit !== 'number' ||
        typeof ttl !== 'number' ||
        typeof blockDuration !== 'number'
      ) {
        throw new Error(`Rate limit window "${name}": limit, ttl and blockDuration are numbers.`);
      }
      return {
        throttler,
        limit,
        ttl,
        blockDuration,
        skipIf: throttler.skipIf ?? this.commonOptions.skipIf,
        getTracker: (throttler.getTracker ?? this.commonOptions.getTracker)!,
        generateKey: (throttler.generateKey ?? this.commonOptions.generateKey)!,
      };
    });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isExempt(context)) return true;
    const windows = this.windows.filter((window) => !window.skipIf?.(context));
    if (windows.length === 0) return true;
    const { req, res } = this.getRequestResponse(context);
    const trackers: string[] = [];
    const hits: WindowHit[] = [];
    for (const { throttler, getTracker, generateKey, ttl, limit, blockDuration } of windows) {
      // Keel's trackers answer at once; a promise (the package's type allows it) is awaited.
      const found = getTracker(req, context);
      const tracker = typeof found === 'string' ? found : await found;
      const name = throttler.name ?? 'default';
      trackers.push(tracker);
      hits.push({ name, key: generateKey(context, tracker, name), ttl, limit, blockDuration });
    }
    let records: WindowRecord[];
    try {
      records = await this.storage.incrementAll(hits);
    } catch (error) {
      // The counters failed unexpectedly (an outage of Redis is handled by the store, which
      // then counts in memory): serve unlimited rather than refuse everyone (fail open).
      this.logger.warn(`rate limits not enforced: ${(error as Error).message}`);
      return true;
    }
    // The base guard's headers, per window; windows are sorted by ttl, so the first refusal
    // is the shortest window's.
    let refusal: number | undefined;
    records.forEach((record, i) => {
      const { name, limit } = hits[i];
      const suffix = name === 'default' ? '' : `-${name}`;
      if (record.isBlocked) {
        refusal ??= i;
        this.setResponseHeader(res, `Retry-After${suffix}`, record.timeToBlockExpire);
      }
      this.setResponseHeader(res, `X-RateLimit-Limit${suffix}`, limit);
      this.setResponseHeader(
        res,
        `X-RateLimit-Remaining${suffix}`,
        Math.max(0, limit - record.totalHits),
      );
      this.setResponseHeader(res, `X-RateLimit-Reset${suffix}`, record.timeToExpire);
    });
    if (refusal !== undefined) {
      await this.refuse(context, hits[refusal], trackers[refusal], records[refusal]);
    }
    return true;
  }

  private isExempt(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(NO_RATE_LIMIT_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  /** The refusing window's headers without suffix, then the base guard's ThrottlerException. */
  private async refuse(
    context: ExecutionContext,
    hit: WindowHit,
    tracker: string,
    record: WindowRecord,
  ): Promise<void> {
    const { res } = this.getRequestResponse(context);
    const retryAfter = String(record.timeToBlockExpire || Math.ceil(hit.blockDuration / 1000));
    this.setResponseHeader(res, 'Retry-After', retryAfter);
    this.setResponseHeader(res, 'X-RateLimit-Limit', hit.limit);
    this.setResponseHeader(res, 'X-RateLimit-Remaining', 0);
    this.setResponseHeader(res, 'X-RateLimit-Reset', retryAfter);
    this.limited.inc({ limit: hit.name });
    await this.throwThrottlingException(context, {
      limit: hit.limit,
      ttl: hit.ttl,
      key: hit.key,
      tracker,
      ...record,
    });
  }
}
