import Redis from 'ioredis';
import { Keyv } from 'keyv';
import { randomUUID } from 'node:crypto';
import { RedisCacheStore } from '../src/common/cache/redis-cache-store';
import { describeWithSharedServices } from './helpers/shared-services';
import { redisUrl } from './helpers/services';

describeWithSharedServices('RedisCacheStore: keyv on the shared ioredis client', () => {
  let redis: Redis;
  let namespace: string;
  let cache: Keyv;

  beforeAll(async () => {
    redis = new Redis((await redisUrl()) as string);
  });

  beforeEach(() => {
    namespace = `test:${randomUUID()}:cache`;
    cache = new Keyv({ store: new RedisCacheStore(redis), namespace });
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('stores values under the namespace, with a Redis TTL, and reads them back one or many', async () => {
    await cache.set('a', { n: 1 }, 60_000);
    await cache.set('b', 'two');

    expect(await cache.get('a')).toEqual({ n: 1 });
    expect(await cache.getMany(['a', 'missing', 'b'])).toEqual([{ n: 1 }, undefined, 'two']);
    const ttl = await redis.pttl(`${namespace}:a`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(`${namespace}:b`)).toBe(-1);
  });

  it('expires an entry with its TTL', async () => {
    await cache.set('short', 1, 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await cache.get('short')).toBeUndefined();
  });

  it('deletes one or several keys and says whether anything was deleted', async () => {
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);

    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.deleteMany(['b', 'c'])).toBe(true);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
  });

  it("clears only its own namespace's keys", async () => {
    const other = new Keyv({ store: new RedisCacheStore(redis), namespace: `${namespace}-other` });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await other.set('a', 'kept');

    await cache.clear();

    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await other.get('a')).toBe('kept');
    await other.clear();
  });

  it('fails a read at once while Redis is unreachable (the caller serves a miss)', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    const unreachable = new Keyv({ store: new RedisCacheStore(down), namespace });
    await expect(unreachable.getMany(['a'])).rejects.toThrow();
    down.disconnect();
  });
});
