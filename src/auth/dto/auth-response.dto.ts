import { ApiProperty } from '@nestjs/swagger';
import { UserResponse } from '../../users/dto/user-response.dto';
import { TokenPairResponse } from './token-pair-response.dto';

export class AuthResponse extends TokenPairResponse {
  @ApiProperty({ type: UserResponse }) user!: UserResponse;
}
