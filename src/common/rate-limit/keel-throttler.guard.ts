import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerRequest,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { NO_RATE_LIMIT_KEY } from './rate-limit.decorators';

/**
 * @nestjs/throttler's guard, run after authentication (so limits follow the principal), with
 * a standard Retry-After and the blocking limit's X-RateLimit-* headers on a 429.
 */
@Injectable()
export class KeelThrottlerGuard extends ThrottlerGuard {
  private readonly limited: Counter<'limit'>;

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

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(
      this.reflector.getAllAndOverride<boolean | undefined>(NO_RATE_LIMIT_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true,
    );
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (error instanceof ThrottlerException) {
        const { res } = this.getRequestResponse(request.context);
        const name = request.throttler.name ?? 'default';
        // The base guard set Retry-After (or Retry-After-<name>) from the store's remaining block.
        const remaining = (
          res as { getHeader(name: string): number | string | undefined }
        ).getHeader(name === 'default' ? 'Retry-After' : `Retry-After-${name}`);
        const retryAfter = String(remaining ?? Math.ceil(request.blockDuration / 1000));
        this.setResponseHeader(res, 'Retry-After', retryAfter);
        this.setResponseHeader(res, 'X-RateLimit-Limit', request.limit);
        this.setResponseHeader(res, 'X-RateLimit-Remaining', 0);
        this.setResponseHeader(res, 'X-RateLimit-Reset', retryAfter);
        this.limited.inc({ limit: name });
        throw error;
      }
      // The counters' store is down: serve unlimited rather than refuse everyone (fail open).
      this.logger.warn(
        `rate limit "${request.throttler.name}" not enforced: ${(error as Error).message}`,
      );
      return true;
    }
  }
}
