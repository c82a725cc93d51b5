import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from './auth/auth.module';
import { AppCacheModule } from './common/cache/app-cache.module';
import { FeaturesModule } from './common/features/features.module';
import { LifecycleModule } from './common/lifecycle/lifecycle.module';
import { LoggingModule } from './common/logging/logging.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { RedisModule } from './redis/redis.module';
import { StatsModule } from './stats/stats.module';
import { UsersModule } from './users/users.module';

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
        FeaturesModule,
        DatabaseModule.forRoot(config.database),
        RedisModule.forRoot(config.redis),
        AppCacheModule,
        HealthModule,
        // Global guards run in import order: authentication, then rate limits by principal.
        AuthModule,
        RateLimitModule,
        UsersModule,
        StatsModule,
      ],
    };
  }
}
