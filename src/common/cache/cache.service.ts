import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
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

/** While a tag's invalidation is pending, how often it is tried again. */
const RETRY_MS = 1000;

/**
 * Cache entries invalidated by tags: each tag has a version, an entry remembers the versions it
 * was built under, and a write bumps its tag. An entry and its tags are read in one round trip;
 * a store that fails (Redis down) reads as a miss and never fails the request.
 *
 * A bump the store refuses is not lost: the tag stays pending, its entries are neither served
 * nor stored by this process, and the bump is tried again every second (and on each lookup of
 * the tag) until it lands. Other instances cannot read the store meanwhile either; they may
 * serve the stale entries only between the store's return and the retry.
 */
@Injectable()
export class CacheService implements OnModuleDestroy {
  private readonly logger = new Logger(CacheService.name);
  private readonly hits;
  private readonly misses;
  private readonly pending = new Set<string>();
  private retryTimer?: NodeJS.Timeout;
  private retrying?: Promise<boolean>;

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
   * Never rejects; count() the lookup when its answer is used.
   */
  async lookup<T>(key: string, tags: readonly string[]): Promise<CacheLookup<T>> {
    if (tags.some((tag) => this.pending.has(tag)) && !(await this.retryPending())) {
      return { hit: false, store: () => Promise.resolve() };
    }
    let versions: string[];
    try {
      const [entry, ...current] = await this.cache.mget<unknown>([key, ...tags.map(tagKey)]);
      const cached = entry as Entry<T> | undefined;
      if (cached && tags.every((_, i) => isVersion(current[i]) && cached.tags[i] === current[i])) {
        return { hit: true, value: cached.value };
      }
      // A tag never invalidated has no version yet: it gets one, which later writes change.
      versions = await Promise.all(
        tags.map((tag, i) => {
          const version = current[i];
          return isVersion(version) ? Promise.resolve(version) : this.bump(tag);
        }),
      );
    } catch (error) {
      this.logger.warn(`cache read failed: ${(error as Error).message}`);
      return { hit: false, store: () => Promise.resolve() };
    }
    return {
      hit: false,
      store: (value, ttlSeconds) => this.store(key, versions, value, ttlSeconds),
    };
  }

  /** Counts a lookup whose answer is used (one started ahead may not be). */
  count(lookup: CacheLookup<unknown>): void {
    (lookup.hit ? this.hits : this.misses).inc();
  }

  /**
   * Everything cached under the tag is stale from now on. Never fails the write that calls it:
   * when the store refuses, the tag is pending (above) until a retry lands.
   */
  async invalidate(tag: string): Promise<void> {
    try {
      await this.bump(tag);
    } catch (error) {
      this.logger.warn(`cache tag "${tag}" not invalidated yet: ${(error as Error).message}`);
      this.pending.add(tag);
      this.retryTimer ??= setInterval(() => void this.retryPending(), RETRY_MS).unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.retryTimer);
  }

  /** A new version for the tag; rejects when the store refuses it. */
  private async bump(tag: string): Promise<string> {
    const version = randomBytes(8).toString('hex');
    await this.cache.set(tagKey(tag), version);
    return version;
  }

  /**
   * Tries the pending bumps again; true once none is left. Concurrent callers (every lookup of a
   * pending tag, the timer) share one attempt instead of each bumping the tag.
   */
  private retryPending(): Promise<boolean> {
    this.retrying ??= this.bumpPending().finally(() => (this.retrying = undefined));
    return this.retrying;
  }

  private async bumpPending(): Promise<boolean> {
    for (const tag of [...this.pending]) {
      try {
        await this.bump(tag);
        this.pending.delete(tag);
      } catch {
        return false;
      }
    }
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    return true;
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
