import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { MemoryThrottlerStorage } from './memory-throttler-storage';
import { RateLimitStorage, WindowHit, WindowRecord } from './rate-limit-storage';

const COMMAND = 'keelRateLimitHits';

type WithCommand = Redis & {
  [COMMAND](numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown>;
};

/**
 * Counts the windows a request falls in (KEYS: hits and blocked key of each; ARGV: ttl, limit
 * and block duration of each, in ms), answering totalHits, timeToExpire, isBlocked (0 or 1) and
 * timeToBlockExpire per window. The fixed-window logic of @nest-lab/throttler-storage-redis
 * (after wyattjoh/rate-limit-redis), looped so all windows cost one EVALSHA.
 */
const SCRIPT = `
local result = {}
for w = 0, #KEYS / 2 - 1 do
  local hitKey, blockKey = KEYS[w * 2 + 1], KEYS[w * 2 + 2]
  local ttl = tonumber(ARGV[w * 3 + 1])
  local limit = tonumber(ARGV[w * 3 + 2])
  local blockDuration = tonumber(ARGV[w * 3 + 3])
  local totalHits = redis.call('INCR', hitKey)
  local timeToExpire = redis.call('PTTL', hitKey)
  if timeToExpire <= 0 then
    redis.call('PEXPIRE', hitKey, ttl)
    timeToExpire = ttl
  end
  local isBlocked = redis.call('GET', blockKey)
  local timeToBlockExpire = 0
  if isBlocked then
    timeToBlockExpire = redis.call('PTTL', blockKey)
  elseif totalHits > limit then
    redis.call('SET', blockKey, 1, 'PX', blockDuration)
    isBlocked = '1'
    timeToBlockExpire = blockDuration
  end
  if isBlocked and timeToBlockExpire <= 0 then
    redis.call('DEL', blockKey)
    redis.call('SET', hitKey, 1, 'PX', ttl)
    totalHits = 1
    timeToExpire = ttl
    isBlocked = false
  end
  result[w * 4 + 1] = totalHits
  result[w * 4 + 2] = timeToExpire
  result[w * 4 + 3] = isBlocked and 1 or 0
  result[w * 4 + 4] = timeToBlockExpire
end
return result
`;

/**
 * Rate-limit counters in Redis, shared by every instance: one EVALSHA per request for all its
 * windows (ioredis falls back to EVAL once when Redis lost the script). Keys are
 * `<key>:hits` and `<key>:blocked`, so they carry REDIS_PREFIX like every other Keel key.
 *
 * While Redis is unreachable, each instance counts in its own memory: the limits hold per
 * instance instead of not at all, so an outage does not open the credentials window to
 * guessing. Counting returns to Redis, from zero, when it answers again.
 */
export class RedisThrottlerStorage implements RateLimitStorage, OnApplicationShutdown {
  private readonly client: WithCommand;
  private readonly logger = new Logger('RateLimit');
  private readonly local = new MemoryThrottlerStorage();
  private counting: 'redis' | 'local' = 'redis';

  constructor(redis: Redis) {
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: SCRIPT });
    this.client = redis as WithCommand;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<WindowRecord> {
    const [record] = await this.incrementAll([{ name, key, ttl, limit, blockDuration }]);
    return record;
  }

  async incrementAll(hits: readonly WindowHit[]): Promise<WindowRecord[]> {
    const keys: string[] = [];
    const args: number[] = [];
    for (const hit of hits) {
      keys.push(`${hit.key}:hits`, `${hit.key}:blocked`);
      args.push(hit.ttl, hit.limit, hit.blockDuration);
    }
    let result: unknown;
    try {
      result = await this.client[COMMAND](keys.length, ...keys, ...args);
    } catch (error) {
      if (this.counting === 'redis') {
        this.logger.warn(
          `rate limits counted by this instance alone while Redis is unavailable: ${(error as Error).message}`,
        );
      }
      this.counting = 'local';
      return this.local.incrementAll(hits);
    }
    if (this.counting === 'local') {
      this.logger.log('rate limits counted in Redis again');
      this.counting = 'redis';
    }
    if (!Array.isArray(result) || result.length !== hits.length * 4 || !result.every(isNumber)) {
      throw new TypeError(`Unexpected rate limit counters from Redis: ${JSON.stringify(result)}`);
    }
    return hits.map((_, w) => ({
      totalHits: result[w * 4],
      timeToExpire: Math.ceil(result[w * 4 + 1] / 1000),
      isBlocked: result[w * 4 + 2] === 1,
      timeToBlockExpire: Math.ceil(result[w * 4 + 3] / 1000),
    }));
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}
