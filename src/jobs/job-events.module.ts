import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import { JobEvents } from './job-events';
import { LocalJobEvents } from './local-job-events';
import { RedisJobEvents } from './redis-job-events';

/** JobEvents for every module: the worker publishes, the realtime gateway subscribes. */
@Global()
@Module({
  providers: [
    {
      provide: JobEvents,
      inject: [ConfigService, REDIS],
      useFactory: (config: ConfigService<AppConfig, true>, redis: Redis | undefined) =>
        redis
          ? new RedisJobEvents(redis, config.get('redis', { infer: true }).prefix)
          : new LocalJobEvents(),
    },
  ],
  exports: [JobEvents],
})
export class JobEventsModule {}
