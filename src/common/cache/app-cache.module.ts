import { createClient, createKeyv } from '@keyv/redis';
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
      useFactory: async (config: ConfigService<AppConfig, true>) => {
        const redis = config.get('redis', { infer: true });
        const store = redis.url
          ? createKeyv(await connectedClient(redis.url), {
              namespace: `${redis.prefix}cache`,
              throwOnConnectError: false,
              throwOnErrors: false,
            })
          : new Keyv();
        // Cached values are JSON response bodies: plain JSON, without keyv's reviver pass for
        // Buffers and escaped strings, a callback for every value read.
        store.serialize = JSON.stringify;
        store.deserialize = JSON.parse;
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

/**
 * A client whose first connection attempt has settled, connected or not; keyv would otherwise
 * connect on the first call and await it, and with Redis down at boot that call (and the request
 * or admin bootstrap behind it) would never finish. It reconnects in the background. No offline
 * queue: while Redis is down a command fails at once, so a read is a miss and never hangs.
 */
async function connectedClient(url: string) {
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 2000 } });
  const settled = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    // Failures arrive as 'error' events (the store reports them); connect() waits for success.
    client.on('error', () => resolve());
  });
  client.connect().catch(() => undefined);
  await settled;
  return client;
}
