import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/** The shared ioredis client; absent (undefined) when REDIS_URL is unset. */
export const REDIS = Symbol('REDIS');

/** Closes the client after the HTTP server has drained. */
@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS) private readonly redis?: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.redis) return;
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }
}

@Global()
@Module({})
export class RedisModule {
  static forRoot(config: AppConfig['redis']): DynamicModule {
    const client = config.url
      ? {
          provide: REDIS,
          // Connects in the background: the API starts (not ready) while Redis is down.
          useFactory: () => createClient(config.url as string),
        }
      : { provide: REDIS, useValue: undefined };
    return { module: RedisModule, providers: [client, RedisCloser], exports: [REDIS] };
  }
}

/**
 * Fails fast: while Redis is unreachable a command errors at once (no offline queue, no retries)
 * instead of holding the request; callers decide (token checks fail closed, rate limits count in
 * memory).
 * Resolves once the first connection attempt has settled, so the first requests find it ready;
 * with Redis down at boot the API still starts (not ready) and reconnects in the background.
 */
async function createClient(url: string): Promise<Redis> {
  const logger = new Logger('Redis');
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    connectTimeout: 2000,
    // Commands issued in the same tick (a request's revocation check and rate-limit counters,
    // concurrent requests') travel in one round trip.
    enableAutoPipelining: true,
  });
  const settled = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    client.once('error', () => resolve());
  });
  // One line per outage, not one per reconnection attempt.
  let lastError: string | undefined;
  client.on('error', (error: Error) => {
    if (error.message !== lastError) logger.warn(`Redis unavailable: ${error.message}`);
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError !== undefined) logger.log('Redis available again');
    lastError = undefined;
  });
  await settled;
  return client;
}
