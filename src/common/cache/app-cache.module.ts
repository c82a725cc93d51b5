import { CacheManagerOptions, CacheModule } from '@nestjs/cache-manager';
import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type Redis from 'ioredis';
import { Keyv } from 'keyv';
import { AppConfig } from '../../config/app-config';
import { REDIS } from '../../redis/redis.module';
import { BoundedMap } from './bounded-map';
import { CacheService } from './cache.service';
import { HttpCacheInterceptor } from './http-cache.interceptor';
import { RedisCacheStore } from './redis-cache-store';

/** Entries the embedded cache holds at most. */
const MEMORY_ENTRIES = 10_000;

/** cache-manager over Redis (services mode) or memory (embedded), chosen here once. */
@Global()
@Module({
  imports: [
    CacheModule.registerAsync({
      inject: [ConfigService, REDIS],
      useFactory: (config: ConfigService<AppConfig, true>, redis: Redis | undefined) => {
        const store = new Keyv({
          // Services mode: Redis through the shared client; embedded: a bounded in-process Map.
          ...(redis
            ? {
                store: new RedisCacheStore(redis),
                namespace: `${config.get('redis', { infer: true }).prefix}cache`,
              }
            : { store: new BoundedMap(MEMORY_ENTRIES) }),
          // Cached values are JSON response bodies: plain JSON, without keyv's reviver pass for
          // Buffers and escaped strings, a callback for every value read.
          serialize: JSON.stringify,
          deserialize: JSON.parse,
          // A failed write rejects, so CacheService knows an invalidation did not land.
          throwOnErrors: true,
        });
        const logger = new Logger('Cache');
        let lastError: string | undefined;
        store.on('error', (error: Error) => {
          if (error.message !== lastError)
            logger.warn(`cache store unavailable, serving misses: ${error.message}`);
          lastError = error.message;
        });
        // keyv's CommonJS and ES typings differ in name only.
        return { stores: [store] as unknown as CacheManagerOptions['stores'] };
      },
    }),
  ],
  providers: [CacheService, HttpCacheInterceptor],
  exports: [CacheService, HttpCacheInterceptor],
})
export class AppCacheModule {}
