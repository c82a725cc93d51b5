import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class RefreshDto {
  @ApiProperty({ example: 'rt_Zm9vYmFy…' })
  @IsString()
  @Length(1, 200)
  refreshToken!: string;
}
