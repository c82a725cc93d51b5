import type Redis from 'ioredis';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { EventEmitter } from 'node:events';

/**
 * cache-manager's (keyv's) store on the application's shared ioredis client: one Redis client
 * library and one connection for the whole process, with its fail-fast policy (no offline
 * queue, 1 s command timeout), so a cache read during an outage fails at once and is a miss.
 * Keyv prefixes every key with its namespace; TTLs are Redis's own (PX).
 */
export class RedisCacheStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = { dialect: 'redis' };
  /** Set by Keyv: the prefix of every key it passes here. */
  namespace?: string;

  constructor(private readonly redis: Redis) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return ((await this.redis.get(key)) ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<StoredData<Value | undefined>[]> {
    const values = await this.redis.mget(keys);
    return values.map((value) => value ?? undefined) as StoredData<Value | undefined>[];
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.redis.set(key, value);
    else await this.redis.set(key, value, 'PX', ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.unlink(key)) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return keys.length > 0 && (await this.redis.unlink(keys)) > 0;
  }

  /** Removes this namespace's keys (never the whole database: other data shares it). */
  async clear(): Promise<void> {
    if (!this.namespace) throw new Error('RedisCacheStore: clear() needs a namespace');
    const pattern = `${this.namespace.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await this.redis.unlink(keys);
      cursor = next;
    } while (cursor !== '0');
  }
}
