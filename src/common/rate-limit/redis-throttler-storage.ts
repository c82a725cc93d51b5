import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { type ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type Redis from 'ioredis';

const COMMAND = 'keelRateLimitHit';

type WithCommand = Redis & {
  [COMMAND](
    hitKey: string,
    blockKey: string,
    name: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<unknown>;
};

/**
 * The package's counting script, run by EVALSHA instead of sending its source with every hit
 * (ioredis falls back to EVAL once when Redis lost it). Keys are `<key>:hits` and
 * `<key>:blocked`, so they carry REDIS_PREFIX like every other Keel key.
 *
 * While Redis is unreachable, each instance counts in its own memory (the package's in-memory
 * storage): the limits hold per instance instead of not at all, so an outage does not open the
 * credentials window to guessing. Counting returns to Redis, from zero, when it answers again.
 */
export class RedisThrottlerStorage
  extends ThrottlerStorageRedisService
  implements OnApplicationShutdown
{
  private readonly client: WithCommand;
  private readonly logger = new Logger('RateLimit');
  private readonly local = new ThrottlerStorageService();
  private counting: 'redis' | 'local' = 'redis';

  constructor(redis: Redis) {
    super(redis);
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: this.scriptSrc });
    this.client = redis as WithCommand;
  }

  override async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    let result: unknown;
    try {
      result = await this.client[COMMAND](
        `${key}:hits`,
        `${key}:blocked`,
        throttlerName,
        ttl,
        limit,
        blockDuration,
      );
    } catch (error) {
      if (this.counting === 'redis') {
        this.logger.warn(
          `rate limits counted by this instance alone while Redis is unavailable: ${(error as Error).message}`,
        );
      }
      this.counting = 'local';
      return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    }
    if (this.counting === 'local') {
      this.logger.log('rate limits counted in Redis again');
      this.counting = 'redis';
    }
    if (!Array.isArray(result) || result.length !== 4 || !result.every(isNumber)) {
      throw new TypeError(`Unexpected rate limit counters from Redis: ${JSON.stringify(result)}`);
    }
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = result;
    return {
      totalHits,
      timeToExpire: Math.ceil(timeToExpire / 1000),
      isBlocked: isBlocked === 1,
      timeToBlockExpire: Math.ceil(timeToBlockExpire / 1000),
    };
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}
