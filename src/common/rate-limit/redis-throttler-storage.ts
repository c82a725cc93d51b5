import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
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
 */
export class RedisThrottlerStorage extends ThrottlerStorageRedisService {
  private readonly client: WithCommand;

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
    const result = await this.client[COMMAND](
      `${key}:hits`,
      `${key}:blocked`,
      throttlerName,
      ttl,
      limit,
      blockDuration,
    );
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
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}
