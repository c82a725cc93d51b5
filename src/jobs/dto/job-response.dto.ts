import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATUSES, JobStatus } from '../job-status';
import { JOB_TYPES, JobType } from '../job-types';
import { Job } from '../job.entity';

export class JobResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_TYPES }) type!: JobType;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({ minimum: 0, maximum: 100, description: 'Percent done' }) progress!: number;
  @ApiProperty({ description: 'Attempts started so far' }) attempts!: number;
  @ApiProperty({ description: 'Attempts allowed before the job fails' }) maxAttempts!: number;
  @ApiProperty({ nullable: true, description: 'What the job produced (completed jobs)' })
  result!: unknown;
  @ApiProperty({ type: String, nullable: true, description: "The last attempt's error" })
  error!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) startedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) finishedAt!: Date | null;
}

export function toJobResponse(job: Job): JobResponse {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    progress: job.progress,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    result: job.result ?? null,
    error: job.error,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}
