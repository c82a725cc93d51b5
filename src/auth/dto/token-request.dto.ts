import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * RFC 6749 token request (application/x-www-form-urlencoded). Fields are checked per grant by
 * the service so that errors are RFC 6749 bodies; client_id, client_secret and scope are accepted
 * (Swagger UI sends them) and ignored: Keel has no client registry or OAuth scopes.
 */
export class TokenRequestDto {
  @ApiProperty({ enum: ['password', 'refresh_token'] })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  grant_type?: string;

  @ApiPropertyOptional({ description: 'Email, for grant_type=password' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  username?: string;

  @ApiPropertyOptional({ description: 'For grant_type=password' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  password?: string;

  @ApiPropertyOptional({ description: 'For grant_type=refresh_token' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  refresh_token?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) scope?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) client_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) client_secret?: string;
}
