import { DynamicModule, Module } from '@nestjs/common';
import { AccessModule } from './auth/access.module';
import { AuthModule } from './auth/auth.module';
import { FeaturesModule } from './common/features/features.module';
import { HttpModule } from './common/http/http.module';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { HealthModule } from './health/health.module';
import { JobsWorkerModule } from './jobs/jobs-worker.module';
import { JobsModule } from './jobs/jobs.module';
import { RealtimeModule } from './realtime/realtime.module';
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
        CoreModule.forRoot(config),
        // Global guards (APP_GUARD) run in the order their modules are imported: feature flags
        // (404) and media types (415), then authentication (identifies, never refuses), rate limits
        // (per principal, else per IP, failed logins included), then access (401, 403).
        FeaturesModule,
        HttpModule,
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
