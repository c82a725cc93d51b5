import { ApiProperty } from '@nestjs/swagger';
import { User } from '../user.entity';
import { toUserResponse, UserResponse } from './user-response.dto';

export class UserLinks {
  @ApiProperty({ example: '/v1/users/6f1c…' }) self!: string;
}

/** The v2 representation: v1's fields plus lastLoginAt and links. */
export class UserV2Response extends UserResponse {
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastLoginAt!: string | null;
  @ApiProperty({ type: UserLinks }) links!: UserLinks;
}

export function toUserV2Response(user: User): UserV2Response {
  return {
    ...toUserResponse(user),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    links: { self: `/v1/users/${user.id}` },
  };
}
