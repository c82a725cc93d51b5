import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { NormalizeEmail } from '../../common/http/string-transforms';

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @NormalizeEmail()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  /** Bounded before any hashing: a 10 kB password is a 400, not 19 MiB of argon2 work. */
  @ApiProperty({ maxLength: 128 })
  @IsString()
  @Length(1, 128)
  password!: string;
}
