import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { PRINTABLE, Trim } from '../../common/http/string-transforms';
import { Role, ROLES } from '../role';

/** What an admin may change on any user. */
export class UpdateUserDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @Trim()
  @IsString()
  @Length(1, 100)
  @Matches(PRINTABLE, { message: 'name must not contain control characters' })
  name?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({
    description: 'false deactivates: the user can no longer log in and their tokens stop working',
  })
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;
}
