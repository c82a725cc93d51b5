import { ExecutionContext, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { normalizeIp, ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import type Redis from 'ioredis';
import type { Principal } from '../../auth/principal';
import { AppConfig } from '../../config/app-config';
import { REDIS } from '../../redis/redis.module';
import { KeelThrottlerGuard } from './keel-throttler.guard';
import { MemoryThrottlerStorage } from './memory-throttler-storage';
import { RedisThrottlerStorage } from './redis-throttler-storage';
import { STRICT_RATE_LIMIT_KEY } from './rate-limit.decorators';

type LimitedRequest = { ip?: string; user?: Principal };

/**
 * The client's address (TRUST_PROXY aware); IPv6 by its /64, as the package's own tracker does:
 * a single host is usually given a whole /64, and would otherwise get a bucket per address.
 */
/** The 429's detail (the package's default names its exception class). */
export const RATE_LIMITED_DETAIL =
  'Too many requests; retry after the number of seconds in Retry-After.';

const clientIp = (req: LimitedRequest) => `ip:${normalizeIp(req.ip ?? '')}`;

/** Per principal (user, or API key) when authenticated, else per client IP. */
const principalOrIp = (req: LimitedRequest) =>
  req.user
    ? req.user.apiKeyId
      ? `key:${req.user.apiKeyId}`
      : `user:${req.user.id}`
    : clientIp(req);

const isCredentialRoute = (context: ExecutionContext) =>
  Reflect.getMetadata(STRICT_RATE_LIMIT_KEY, context.getHandler()) === true;

/**
 * Three windows: `default` per principal or IP; `hourly` per user, so a token cannot hammer the
 * API all day; `auth`, strict and per IP, on the credential routes only. Counters live in Redis
 * in services mode, so limits hold across instances. Must be imported after the auth module:
 * its guard runs after authentication.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService, REDIS],
      useFactory: (config: ConfigService<AppConfig, true>, redis: Redis | undefined) => {
        const limits = config.get('rateLimit', { infer: true });
        const prefix = config.get('redis', { infer: true }).prefix;
        const throttlers: ThrottlerOptions[] = [
          { name: 'default', limit: limits.max, ttl: limits.ttlSeconds * 1000 },
          {
            name: 'hourly',
            limit: limits.hourlyMax,
            ttl: 3_600_000,
            skipIf: (context) =>
              context.switchToHttp().getRequest<LimitedRequest>().user === undefined,
            getTracker: (req: LimitedRequest) => `user:${req.user?.id}`,
          },
          {
            name: 'auth',
            limit: limits.authMax,
            ttl: limits.authTtlSeconds * 1000,
            skipIf: (context) => !isCredentialRoute(context),
            getTracker: clientIp,
          },
        ];
        return {
          throttlers,
          errorMessage: RATE_LIMITED_DETAIL,
          getTracker: principalOrIp,
          // One bucket per limit and caller across routes (the default keys by route too).
          generateKey: (_context, tracker, name) => `${prefix}rate:${name}:${tracker}`,
          storage: redis ? new RedisThrottlerStorage(redis) : new MemoryThrottlerStorage(),
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: KeelThrottlerGuard }],
})
export class RateLimitModule {}
