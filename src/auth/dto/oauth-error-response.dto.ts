import { ApiProperty } from '@nestjs/swagger';

/** RFC 6749 section 5.2. */
export class OAuthErrorResponse {
  @ApiProperty({ enum: ['invalid_request', 'invalid_grant', 'unsupported_grant_type'] })
  error!: string;
  @ApiProperty() error_description!: string;
}
