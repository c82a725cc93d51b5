import { ApiProperty } from '@nestjs/swagger';
import { ApiKeyResponse } from './api-key-response.dto';

/** The answer to a creation: the only time the full key is shown. */
export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ example: 'ak_k3j9x0c1v7b2n4m8_5uF…', description: 'Shown once; store it now' })
  key!: string;
}
