import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppCacheModule } from './common/cache/app-cache.module';
import { LifecycleModule } from './common/lifecycle/lifecycle.module';
import { LoggingModule } from './common/logging/logging.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { JobEventsModule } from './jobs/job-events.module';
import { JobQueueModule } from './jobs/job-queue.module';
import { RedisModule } from './redis/redis.module';

/**
 * What every Keel process (the API, the worker) stands on: configuration, logs, lifecycle,
 * metrics, the database, Redis, the job queue and its events, the cache. No guards, no routes.
 */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: [() => config],
        }),
        LoggingModule,
        LifecycleModule,
        MetricsModule,
        DatabaseModule.forRoot(config.database),
        RedisModule.forRoot(config.redis),
        JobEventsModule,
        JobQueueModule.forRoot(config),
        AppCacheModule,
      ],
    };
  }
}
