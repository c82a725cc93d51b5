import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { CursorQuery } from '../../common/http/pagination';
import { Role, ROLES } from '../role';

export class ListUsersV2Query extends CursorQuery {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'Matches anywhere in the email or name, case-insensitively' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}
