import { IsString, Length, Matches } from 'class-validator';

/** `message`: text to a public room the socket has joined. */
export class SendMessageDto {
  @IsString()
  @Length(1, 128)
  room!: string;

  @IsString()
  @Length(1, 2000)
  @Matches(/\S/, { message: 'text must not be blank' })
  text!: string;
}
