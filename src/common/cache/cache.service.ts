import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { randomBytes } from 'node:crypto';
import { MetricsService } from '../metrics/metrics.service';

interface Entry<T> {
  /** The tag versions the value was computed under. */
  tags: (string | undefined)[];
  value: T;
}

/**
 * Cache entries invalidated by tags: each tag has a version, an entry remembers the versions it
 * was built under, and a write bumps its tag. An entry and its tags are read in one round trip;
 * a store that fails (Redis down) reads as a miss and never fails the request.
 */
@Injectable()
export class CacheService {
  private readonly logger = new Logger(CacheService.name);
  private readonly hits;
  private readonly misses;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    metrics: MetricsService,
  ) {
    this.hits = metrics.counter({
      name: 'cache_hits_total',
      help: 'Responses served from the cache.',
    });
    this.misses = metrics.counter({
      name: 'cache_misses_total',
      help: 'Cacheable responses computed anew.',
    });
  }

  /** The value under key, if it was stored under the tags' current versions. */
  async get<T>(key: string, tags: readonly string[]): Promise<T | undefined> {
    try {
      const [entry, ...versions] = await this.cache.mget<unknown>([key, ...tags.map(tagKey)]);
      const cached = entry as Entry<T> | undefined;
      if (cached && tags.every((_, i) => cached.tags[i] === versions[i])) {
        this.hits.inc();
        return cached.value;
      }
    } catch (error) {
      this.logger.warn(`cache read failed: ${(error as Error).message}`);
    }
    this.misses.inc();
    return undefined;
  }

  async set<T>(key: string, tags: readonly string[], value: T, ttlSeconds: number): Promise<void> {
    try {
      const versions = await this.cache.mget<string>(tags.map(tagKey));
      await this.cache.set<Entry<T>>(key, { tags: versions, value }, ttlSeconds * 1000);
    } catch (error) {
      this.logger.warn(`cache write failed: ${(error as Error).message}`);
    }
  }

  /** Everything cached under the tag is stale from now on. */
  async invalidate(tag: string): Promise<void> {
    await this.cache.set(tagKey(tag), randomBytes(8).toString('hex'));
  }
}

function tagKey(tag: string): string {
  return `tag:${tag}`;
}
