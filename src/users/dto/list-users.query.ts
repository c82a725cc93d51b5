import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQuery, sortPattern } from '../../common/http/pagination';
import { Role, ROLES } from '../role';

export const USER_SORT_FIELDS = ['createdAt', 'email', 'name', 'role', 'lastLoginAt'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'Matches anywhere in the email or name, case-insensitively' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({
    example: 'createdAt:desc',
    description: `One of ${USER_SORT_FIELDS.join(', ')}, then :asc or :desc`,
  })
  @IsOptional()
  @Matches(sortPattern(USER_SORT_FIELDS), {
    message: `sort must be field:asc or field:desc with field one of ${USER_SORT_FIELDS.join(', ')}`,
  })
  sort?: string;
}
