import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** `report.users`: users by role and signups per day. */
export class ReportUsersPayload {
  @ApiPropertyOptional({ description: 'Days of signups to count, today included', default: 30 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(366)
  days?: number;
}
