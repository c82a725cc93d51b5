import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { WebhookEvent } from '../webhooks/webhook-event.entity';
import { WebhookProcessProcessor } from '../webhooks/webhook-process.processor';
import { JOB_PROCESSORS, JobRunner } from './job-runner';
import { jobStatementsProvider } from './job-statements';
import { Job } from './job.entity';
import { JobsWorker } from './jobs-worker.service';
import { DataProcessProcessor } from './processors/data-process.processor';
import { EmailWelcomeProcessor } from './processors/email-welcome.processor';
import { JobProcessor } from './processors/job-processor';
import { mailTransportProvider } from './processors/mail-transport';
import { ReportUsersProcessor } from './processors/report-users.processor';
import { WebhookDeliverProcessor } from './processors/webhook-deliver.processor';

const PROCESSORS = [
  EmailWelcomeProcessor,
  ReportUsersProcessor,
  DataProcessProcessor,
  WebhookDeliverProcessor,
  WebhookProcessProcessor,
];

/** The processors and the loop that feeds them: in the worker process, or in the API. */
@Module({
  imports: [TypeOrmModule.forFeature([Job, WebhookEvent]), UsersModule],
  providers: [
    ...PROCESSORS,
    mailTransportProvider,
    {
      provide: JOB_PROCESSORS,
      inject: PROCESSORS,
      useFactory: (...processors: JobProcessor[]) => processors,
    },
    jobStatementsProvider,
    JobRunner,
    JobsWorker,
  ],
})
export class JobsWorkerModule {}
