import { BullModule } from '@nestjs/bull';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/app-config';
import { BullConnection, BullJobQueue, createBullClient, JOBS_QUEUE } from './bull-job-queue';
import { JobQueue } from './job-queue';
import { JobQueueMetrics } from './job-queue-metrics';
import { MemoryJobQueue } from './memory-job-queue';

/** The job queue driver, chosen once: Bull with REDIS_URL, the in-process queue without. */
@Global()
@Module({})
export class JobQueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.redis.url) {
      return {
        module: JobQueueModule,
        providers: [
          { provide: JobQueue, useFactory: () => new MemoryJobQueue(config.jobs.backoffMs) },
          JobQueueMetrics,
        ],
        exports: [JobQueue],
      };
    }
    const url = config.redis.url;
    return {
      module: JobQueueModule,
      imports: [
        BullModule.registerQueueAsync({
          name: JOBS_QUEUE,
          inject: [ConfigService],
          useFactory: (configService: ConfigService<AppConfig, true>) => {
            const jobs = configService.get('jobs', { infer: true });
            return {
              prefix: `${configService.get('redis', { infer: true }).prefix}bull`,
              createClient: (type: BullConnection) => createBullClient(url, type),
              settings: {
                lockDuration: jobs.lockMs,
                stalledInterval: Math.max(1000, Math.floor(jobs.lockMs / 2)),
                // The row counts crashed attempts and fails the job when none is left.
                maxStalledCount: jobs.attempts,
              },
              defaultJobOptions: {
                backoff: { type: 'exponential', delay: jobs.backoffMs },
                // PostgreSQL keeps every job's outcome; Redis keeps only what is still to run.
                removeOnComplete: true,
                removeOnFail: true,
              },
            };
          },
        }),
      ],
      providers: [{ provide: JobQueue, useClass: BullJobQueue }, JobQueueMetrics],
      exports: [JobQueue],
    };
  }
}
