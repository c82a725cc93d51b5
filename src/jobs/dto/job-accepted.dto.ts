import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATUSES, JobStatus } from '../job-status';

/** 202 body; `status` is the job's current one when an Idempotency-Key repeats a request. */
export class JobAccepted {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_STATUSES, example: 'queued' }) status!: JobStatus;
}
