import { ApiProperty } from '@nestjs/swagger';
import { PageMeta } from '../../common/http/pagination';
import { UserResponse } from './user-response.dto';

export class UserPage {
  @ApiProperty({ type: [UserResponse] }) data!: UserResponse[];
  @ApiProperty({ type: PageMeta }) meta!: PageMeta;
}
