import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

/** A public room, one user's sockets or one role's. */
const BROADCAST_ROOM =
  /^(public:[A-Za-z0-9._-]{1,64}|user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|role:(admin|user|guest))$/;

export class BroadcastDto {
  @ApiProperty({ minLength: 1, maxLength: 2000, example: 'Maintenance at 22:00 UTC' })
  @IsString()
  @Length(1, 2000)
  message!: string;

  @ApiPropertyOptional({
    description: 'Only this room: `public:<name>`, `user:<id>` or `role:<role>`; default everyone',
    example: 'role:user',
  })
  @IsOptional()
  @IsString()
  @Matches(BROADCAST_ROOM, {
    message: 'room must be public:<name>, user:<id> or role:<admin|user|guest>',
  })
  room?: string;
}
