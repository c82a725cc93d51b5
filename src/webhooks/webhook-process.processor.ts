import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PermanentJobError } from '../jobs/job-queue';
import { JobPayloads, JobResults } from '../jobs/job-payloads';
import { JobProcessor } from '../jobs/processors/job-processor';
import { WebhookEvent } from './webhook-event.entity';

/**
 * Processes a stored inbound webhook. Keel itself only marks it processed (once, whatever the
 * number of deliveries); per-source handling belongs here as the product grows.
 */
@Injectable()
export class WebhookProcessProcessor extends JobProcessor<'webhook.process'> {
  readonly type = 'webhook.process';

  constructor(@InjectRepository(WebhookEvent) private readonly events: Repository<WebhookEvent>) {
    super();
  }

  async process({
    eventId,
  }: JobPayloads['webhook.process']): Promise<JobResults['webhook.process']> {
    const event = await this.events.findOneBy({ id: eventId });
    if (!event) throw new PermanentJobError(`Webhook event ${eventId} no longer exists.`);
    await this.events
      .createQueryBuilder()
      .update()
      .set({ processedAt: () => 'COALESCE(processed_at, now())' })
      .where('id = :id', { id: eventId })
      .execute();
    return { eventId, source: event.source };
  }
}
