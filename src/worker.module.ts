import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppCacheModule } from './common/cache/app-cache.module';
import { LifecycleModule } from './common/lifecycle/lifecycle.module';
import { LoggingModule } from './common/logging/logging.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JobEventsModule } from './jobs/job-events.module';
import { JobQueueModule } from './jobs/job-queue.module';
import { JobsWorkerModule } from './jobs/jobs-worker.module';
import { RedisModule } from './redis/redis.module';

/** The worker process: the job processors, and health and metrics on their own port. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
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
        HealthModule,
        JobsWorkerModule,
      ],
    };
  }
}
