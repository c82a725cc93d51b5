import { createKeyv } from '@keyv/redis';
import { CacheManagerOptions, CacheModule } from '@nestjs/cache-manager';
import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Keyv } from 'keyv';
import { AppConfig } from '../../config/app-config';
import { CacheService } from './cache.service';
import { HttpCacheInterceptor } from './http-cache.interceptor';

/** cache-manager over Redis (services mode) or memory (embedded), chosen here once. */
@Global()
@Module({
  imports: [
    CacheModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const redis = config.get('redis', { infer: true });
        const store = redis.url
          ? createKeyv(
              // No offline queue: while Redis is down a read fails at once (a miss), it never hangs.
              { url: redis.url, disableOfflineQueue: true, socket: { connectTimeout: 2000 } },
              {
                namespace: `${redis.prefix}cache`,
                throwOnConnectError: false,
                throwOnErrors: false,
              },
            )
          : new Keyv();
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
