import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { HealthModule } from './health/health.module';
import { JobsWorkerModule } from './jobs/jobs-worker.module';

/** The worker process: the job processors, and health and metrics on their own port. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [CoreModule.forRoot(config), HealthModule, JobsWorkerModule],
    };
  }
}
