import { ApiProperty } from '@nestjs/swagger';

export class BroadcastAccepted {
  @ApiProperty({ description: 'When it was sent, as the `at` of the broadcast event' })
  at!: string;
}
