import { ApiProperty } from '@nestjs/swagger';

export class WebhookAccepted {
  @ApiProperty({
    format: 'uuid',
    description: 'The stored event; the same for a repeated X-Event-Id',
  })
  eventId!: string;
}
