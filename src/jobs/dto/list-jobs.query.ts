import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/http/pagination';
import { JOB_STATUSES, JobStatus } from '../job-status';
import { INTERNAL_JOB_TYPES, JOB_TYPES, JobType } from '../job-types';

const ALL_TYPES = [...JOB_TYPES, ...INTERNAL_JOB_TYPES];

/** `GET /v1/jobs?status=failed` is the dead-letter list. */
export class ListJobsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES, { message: `status must be one of: ${JOB_STATUSES.join(', ')}` })
  status?: JobStatus;

  @ApiPropertyOptional({ enum: ALL_TYPES })
  @IsOptional()
  @IsIn(ALL_TYPES, { message: `type must be one of: ${ALL_TYPES.join(', ')}` })
  type?: JobType;
}
