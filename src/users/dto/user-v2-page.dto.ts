import { ApiProperty } from '@nestjs/swagger';
import { UserV2Response } from './user-v2-response.dto';

export class UserV2Page {
  @ApiProperty({ type: [UserV2Response] }) data!: UserV2Response[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= for the next page; null on the last',
  })
  nextCursor!: string | null;
}
