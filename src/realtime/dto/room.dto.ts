import { IsString, Length } from 'class-validator';

/** `room:join` and `room:leave`: only `public:*` rooms (others are refused as forbidden). */
export class RoomDto {
  /** `public:` and 1-64 letters, digits, `.`, `_` or `-`, e.g. `public:lobby`. */
  @IsString()
  @Length(1, 128)
  room!: string;
}
