import { ApiProperty } from '@nestjs/swagger';
import { Role } from '../../users/role';

export class UserStats {
  @ApiProperty({ example: 42 }) total!: number;
  @ApiProperty({ example: { admin: 1, user: 40, guest: 1 } }) byRole!: Record<Role, number>;
}

export class StatsResponse {
  @ApiProperty({ type: UserStats }) users!: UserStats;
}
