import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IncomingHttpHeaders } from 'node:http';
import { QueryFailedError, Repository } from 'typeorm';
import { Principal } from '../auth/principal';
import { Forbidden, ValidationFailed } from '../common/errors/domain-errors';
import { FieldError } from '../common/errors/problem-details';
import { JobsService } from '../jobs/jobs.service';
import { WebhookAccepted } from './dto/webhook-accepted.dto';
import { WebhookEvent } from './webhook-event.entity';

const UNIQUE_VIOLATION = '23505';
const SOURCE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const EVENT_ID = /^[\x21-\x7e]{1,200}$/;
/** Kept with the event: what identifies and authenticates it at the source. Never credentials. */
const KEPT_HEADERS =
  /^(content-type|user-agent|x-event-id|x-request-id|x-github-event|x-github-delivery|x-.*-signature(-256)?|x-signature)$/;

@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    @InjectRepository(WebhookEvent) private readonly events: Repository<WebhookEvent>,
    private readonly jobs: JobsService,
  ) {}

  /**
   * Stores the event, then queues its processing. A repeated X-Event-Id from the same sender (the
   * API key's owner) and source returns the first event and queues nothing, also when repeats
   * arrive at once; while the queue is down the processing job waits in its row for the recovery
   * sweep. Another sender's X-Event-Id is another event: ids are the sender's own, and one sender
   * must not be able to drop another's.
   */
  async receive(
    principal: Principal,
    source: string,
    headers: IncomingHttpHeaders,
    payload: unknown,
  ): Promise<WebhookAccepted> {
    if (principal.via !== 'api-key') throw new Forbidden('Inbound webhooks take an API key.');
    const externalId = single(headers['x-event-id']);
    const errors: FieldError[] = [];
    if (!SOURCE.test(source)) {
      errors.push({
        field: 'source',
        message: 'source must be 1-64 lowercase letters, digits or . _ -',
      });
    }
    if (externalId !== undefined && !EVENT_ID.test(externalId)) {
      errors.push({
        field: 'X-Event-Id',
        message: 'X-Event-Id must be 1-200 printable ASCII characters',
      });
    }
    if (!hasJsonBody(headers, payload)) {
      errors.push({ field: 'body', message: 'body must be the event as a JSON document' });
    }
    if (errors.length > 0) throw new ValidationFailed(errors);
    let event: WebhookEvent;
    try {
      event = await this.events.save(
        this.events.create({
          source,
          externalId: externalId ?? null,
          headers: keptHeaders(headers),
          payload,
          ownerId: principal.id,
        }),
      );
    } catch (error) {
      if (externalId === undefined || !isUniqueViolation(error)) throw error;
      event = await this.events.findOneByOrFail({ ownerId: principal.id, source, externalId });
    }
    if (event.jobId === null) await this.queueProcessing(event);
    return { eventId: event.id };
  }

  private async queueProcessing(event: WebhookEvent): Promise<void> {
    // Keyed by the event: concurrent repeats of it get the one job.
    const job = await this.jobs.enqueue(
      event.ownerId,
      'webhook.process',
      { eventId: event.id },
      `webhook-event:${event.id}`,
    );
    await this.events
      .createQueryBuilder()
      .update()
      .set({ jobId: job.id })
      .where('id = :id AND job_id IS NULL', { id: event.id })
      .execute();
    this.logger.log({ eventId: event.id, source: event.source, jobId: job.id }, 'webhook received');
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The platform parses no body for a request without one (undefined here), and an empty JSON body
 * to {}: only its Content-Length tells that one from a sent `{}`.
 */
function hasJsonBody(headers: IncomingHttpHeaders, payload: unknown): boolean {
  return payload !== undefined && Number(headers['content-length']) !== 0;
}

function keptHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && KEPT_HEADERS.test(name)) kept[name] = String(value).slice(0, 1000);
  }
  return kept;
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
  );
}
