import { ApiProperty } from '@nestjs/swagger';

/** RFC 6749 section 5.1. */
export class OAuthTokenResponse {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 'bearer' }) token_type!: 'bearer';
  @ApiProperty({ example: 900 }) expires_in!: number;
  @ApiProperty() refresh_token!: string;
}
