import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { PageQuery, sortPattern } from '../../common/http/pagination';
import { UserFilterQuery } from './user-filter.query';

export const USER_SORT_FIELDS = ['createdAt', 'email', 'name', 'role', 'lastLoginAt'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

export class ListUsersQuery extends IntersectionType(PageQuery, UserFilterQuery) {
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
