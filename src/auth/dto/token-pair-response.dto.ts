import { ApiProperty } from '@nestjs/swagger';

export class TokenPairResponse {
  @ApiProperty({ description: 'JWT (HS256), sent as Authorization: Bearer' }) accessToken!: string;
  @ApiProperty({ description: 'Opaque; single use: each refresh returns a new one' })
  refreshToken!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ example: 900, description: 'Access token lifetime in seconds' })
  expiresIn!: number;
}
