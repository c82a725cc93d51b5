import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const MAX_PAGE_SIZE = 100;

/** `?limit=`, at most 100 items a page. */
class PageSizeQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit = 20;
}

/** `?page=&limit=` of v1 list routes. */
export class PageQuery extends PageSizeQuery {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page = 1;
}

/** `?cursor=&limit=` of v2 list routes. */
export class CursorQuery extends PageSizeQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a cursor this API returned' })
  cursor?: string;
}

export class PageMeta {
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() total!: number;
  @ApiProperty() totalPages!: number;
}

export interface Page<T> {
  data: T[];
  meta: PageMeta;
}

export interface CursorPage<T> {
  data: T[];
  nextCursor: string | null;
}

export function toPage<T>(data: T[], total: number, query: PageQuery): Page<T> {
  return {
    data,
    meta: {
      page: query.page,
      limit: query.limit,
      total,
      totalPages: Math.ceil(total / query.limit),
    },
  };
}

/** A `sort=field:asc|desc` pattern over whitelisted fields, for @Matches on a query DTO. */
export function sortPattern(fields: readonly string[]): RegExp {
  return new RegExp(`^(${fields.join('|')}):(asc|desc)$`);
}

export function parseSort<F extends string>(
  sort: string | undefined,
  fallback: F,
): [F, 'ASC' | 'DESC'] {
  if (!sort) return [fallback, 'DESC'];
  const [field, direction] = sort.split(':');
  return [field as F, direction === 'asc' ? 'ASC' : 'DESC'];
}
