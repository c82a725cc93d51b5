import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AccessModule } from './auth/access.module';
import { AuthModule } from './auth/auth.module';
import { AppCacheModule } from './common/cache/app-cache.module';
import { FeaturesModule } from './common/features/features.module';
import { HttpModule } from './common/http/http.module';
import { LifecycleModule } from './common/lifecycle/lifecycle.module';
import { LoggingModule } from './common/logging/logging.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JobEventsModule } from './jobs/job-events.module';
import { JobQueueModule } from './jobs/job-queue.module';
import { JobsWorkerModule } from './jobs/jobs-worker.module';
import { JobsModule } from './jobs/jobs.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';
import { StatsModule } from './stats/stats.module';
import { UsersModule } from './users/users.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The API: feature modules, wired with the configuration validated at boot. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
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
        // Global guards (APP_GUARD) run in the order their modules are imported: feature flags
        // (404) and media types (415), then authentication (identifies, never refuses), rate limits
        // (per principal, else per IP, failed logins included), then access (401, 403).
        FeaturesModule,
        HttpModule,
        DatabaseModule.forRoot(config.database),
        RedisModule.forRoot(config.redis),
        JobEventsModule,
        JobQueueModule.forRoot(config),
        AppCacheModule,
        HealthModule,
        AuthModule,
        RateLimitModule,
        AccessModule,
        UsersModule,
        RealtimeModule,
        StatsModule,
        JobsModule,
        WebhooksModule,
        // The processors run here too without Redis (embedded mode) or with WORKER_IN_PROCESS=true.
        ...(config.worker.inProcess ? [JobsWorkerModule] : []),
      ],
    };
  }
}
