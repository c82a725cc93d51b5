import { ApiProperty } from '@nestjs/swagger';
import { JobStatus } from '../../jobs/job-status';
import { Role } from '../../users/role';

export class UserStats {
  @ApiProperty({ example: 42 }) total!: number;
  @ApiProperty({ example: { admin: 1, user: 40, guest: 1 } }) byRole!: Record<Role, number>;
}

export class JobStats {
  @ApiProperty({ example: 120 }) total!: number;
  @ApiProperty({
    example: { queued: 3, active: 1, completed: 110, failed: 4, cancelled: 2 },
  })
  byStatus!: Record<JobStatus, number>;
}

export class StatsResponse {
  @ApiProperty({ type: UserStats }) users!: UserStats;
  @ApiProperty({ type: JobStats }) jobs!: JobStats;
}
