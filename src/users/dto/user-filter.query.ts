import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { Role, ROLES } from '../role';

/** The filters both user listings take. */
export class UserFilterQuery {
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
