import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerOptions,
  ThrottlerRequest,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { NO_RATE_LIMIT_KEY } from './rate-limit.decorators';

interface Refusal {
  request: ThrottlerRequest;
  error: ThrottlerException;
}

/**
 * @nestjs/throttler's guard, run after authentication (so limits follow the principal), with
 * a standard Retry-After and the blocking limit's X-RateLimit-* headers on a 429.
 *
 * Every window that applies is counted at once, so their increments leave in one Redis write
 * (ioredis pipelines the commands of one tick) instead of one round trip per window. A request
 * one window refuses still counts in the others; when several refuse, the shortest window (the
 * base guard sorts them by ttl) names the limit. Windows are configured in RateLimitModule only:
 * the package's per-route `@Throttle()` and `@SkipThrottle()` are not read (lint forbids them);
 * routes use `@NoRateLimit()` and `@StrictRateLimit()`.
 */
@Injectable()
export class KeelThrottlerGuard extends ThrottlerGuard {
  private readonly limited: Counter<'limit'>;
  /** Each configured window, resolved once at start. */
  private windows: (Omit<ThrottlerRequest, 'context'> & Pick<ThrottlerOptions, 'skipIf'>)[] = [];

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
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
    if (await this.shouldSkip(context)) return true;
    const outcomes = await Promise.all(
      this.windows
        .filter((window) => !window.skipIf?.(context))
        .map((window) => this.count({ ...window, context })),
    );
    const refusal = outcomes.find((outcome) => outcome !== undefined);
    if (refusal) this.refuse(refusal);
    return true;
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(
      this.reflector.getAllAndOverride<boolean | undefined>(NO_RATE_LIMIT_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true,
    );
  }

  /** One window's hit: a refusal, or undefined when it lets the request through. */
  private async count(request: ThrottlerRequest): Promise<Refusal | undefined> {
    try {
      await this.handleRequest(request);
      return undefined;
    } catch (error) {
      if (error instanceof ThrottlerException) return { request, error };
      // The counters failed unexpectedly (an outage of Redis is handled by the store, which
      // then counts in memory): serve unlimited rather than refuse everyone (fail open).
      this.logger.warn(
        `rate limit "${request.throttler.name}" not enforced: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  private refuse({ request, error }: Refusal): never {
    const { res } = this.getRequestResponse(request.context);
    const name = request.throttler.name ?? 'default';
    // The base guard set Retry-After (or Retry-After-<name>) from the store's remaining block.
    const remaining = (res as { getHeader(name: string): number | string | undefined }).getHeader(
      name === 'default' ? 'Retry-After' : `Retry-After-${name}`,
    );
    const retryAfter = String(remaining ?? Math.ceil(request.blockDuration / 1000));
    this.setResponseHeader(res, 'Retry-After', retryAfter);
    this.setResponseHeader(res, 'X-RateLimit-Limit', request.limit);
    this.setResponseHeader(res, 'X-RateLimit-Remaining', 0);
    this.setResponseHeader(res, 'X-RateLimit-Reset', retryAfter);
    this.limited.inc({ limit: name });
    throw error;
  }
}
