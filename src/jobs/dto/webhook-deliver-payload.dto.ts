import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';

/** `webhook.deliver`: POST `{id, event, data, createdAt}` to the URL, signed with X-Signature. */
export class WebhookDeliverPayload {
  @ApiProperty({ example: 'https://partner.example/hooks/keel', maxLength: 2048 })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ example: 'order.shipped', maxLength: 100 })
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,100}$/, {
    message: 'event must be 1-100 letters, digits or . _ : -',
  })
  event!: string;

  @ApiPropertyOptional({ description: 'Any JSON value, sent as `data`' })
  @IsOptional()
  data?: unknown;
}
