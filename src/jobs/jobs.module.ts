import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { jobStatementsProvider } from './job-statements';
import { Job } from './job.entity';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

/** The job API and the service other modules queue jobs through (registration, webhooks). */
@Module({
  imports: [TypeOrmModule.forFeature([Job])],
  controllers: [JobsController],
  providers: [JobsService, jobStatementsProvider],
  exports: [JobsService],
})
export class JobsModule {}
