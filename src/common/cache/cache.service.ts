import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { randomBytes } from 'node:crypto';
import { MetricsService } from '../metrics/metrics.service';

interface Entry<T> {
  /** The tag versions the value was computed under. */
  tags: string[];
  value: T;
}

/** A hit, or a miss that stores a value computed now under the tag versions read before it. */
export type CacheLookup<T> =
  { hit: true; value: T } | { hit: false; store(value: T, ttlSeconds: number): Promise<void> };

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

  /**
   * The value under key if it was stored under the tags' current versions. On a miss the
   * versions are the ones read now, before the value is computed: a write that lands meanwhile
   * bumps them, so the value (possibly computed from the old data) is stored already stale.
   */
  async lookup<T>(key: string, tags: readonly string[]): Promise<CacheLookup<T>> {
    let versions: string[];
    try {
      const [entry, ...current] = await this.cache.mget<unknown>([key, ...tags.map(tagKey)]);
      const cached = entry as Entry<T> | undefined;
      if (cached && tags.every((_, i) => isVersion(current[i]) && cached.tags[i] === current[i])) {
        this.hits.inc();
        return { hit: true, value: cached.value };
      }
      // A tag never invalidated has no version yet: it gets one, which later writes change.
      versions = await Promise.all(
        tags.map((tag, i) => {
          const version = current[i];
          return isVersion(version) ? Promise.resolve(version) : this.invalidate(tag);
        }),
      );
    } catch (error) {
      this.logger.warn(`cache read failed: ${(error as Error).message}`);
      this.misses.inc();
      return { hit: false, store: () => Promise.resolve() };
    }
    this.misses.inc();
    return {
      hit: false,
      store: (value, ttlSeconds) => this.store(key, versions, value, ttlSeconds),
    };
  }

  /** Everything cached under the tag is stale from now on. Returns the tag's new version. */
  async invalidate(tag: string): Promise<string> {
    const version = randomBytes(8).toString('hex');
    await this.cache.set(tagKey(tag), version);
    return version;
  }

  private async store<T>(
    key: string,
    versions: string[],
    value: T,
    ttlSeconds: number,
  ): Promise<void> {
    try {
      await this.cache.set<Entry<T>>(key, { tags: versions, value }, ttlSeconds * 1000);
    } catch (error) {
      this.logger.warn(`cache write failed: ${(error as Error).message}`);
    }
  }
}

function tagKey(tag: string): string {
  return `tag:${tag}`;
}

function isVersion(value: unknown): value is string {
  return typeof value === 'string';
}
