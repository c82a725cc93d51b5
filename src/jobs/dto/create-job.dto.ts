import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, Max, Min } from 'class-validator';
import { JOB_TYPES, PublicJobType } from '../job-types';

export const MAX_JOB_DELAY_MS = 7 * 24 * 3600 * 1000;

export class CreateJobDto {
  @ApiProperty({ enum: JOB_TYPES })
  @IsIn(JOB_TYPES, { message: `type must be one of: ${JOB_TYPES.join(', ')}` })
  type!: PublicJobType;

  @ApiPropertyOptional({
    description:
      "The job type's input: `email.welcome` {}; `report.users` {days?}; `data.process` {items: number[]}; `webhook.deliver` {url, event, data?}",
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  payload?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Run no earlier than this many ms from now',
    maximum: MAX_JOB_DELAY_MS,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_JOB_DELAY_MS)
  delayMs?: number;

  @ApiPropertyOptional({
    description: '1 runs first, 10 last; unset keeps arrival order',
    minimum: 1,
    maximum: 10,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  priority?: number;
}
