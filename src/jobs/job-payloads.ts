import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ValidationFailed } from '../common/errors/domain-errors';
import { toFieldErrors } from '../common/errors/validation-errors';
import { DataProcessPayload } from './dto/data-process-payload.dto';
import { EmailWelcomePayload } from './dto/email-welcome-payload.dto';
import { ReportUsersPayload } from './dto/report-users-payload.dto';
import { WebhookDeliverPayload } from './dto/webhook-deliver-payload.dto';
import { JOB_TYPES, JobType, PublicJobType } from './job-types';

/** Each job type's payload: producers and processors share these, so they cannot disagree. */
export interface JobPayloads {
  'email.welcome': EmailWelcomePayload;
  'report.users': ReportUsersPayload;
  'data.process': DataProcessPayload;
  'webhook.deliver': WebhookDeliverPayload;
  'webhook.process': { eventId: string };
}

/** Each job type's result, as stored in `jobs.result` and sent with `job.completed`. */
export interface JobResults {
  'email.welcome': { messageId: string; to: string; subject: string; message?: unknown };
  'report.users': {
    total: number;
    byRole: Record<string, number>;
    signupsPerDay: { date: string; count: number }[];
  };
  'data.process': { count: number; sum: number; mean: number; min: number; max: number };
  'webhook.deliver': { status: number; attempts: number };
  'webhook.process': { eventId: string; source: string };
}

export type AnyJobPayload = JobPayloads[JobType];

const PAYLOAD_CLASSES: Record<PublicJobType, ClassConstructor<object>> = {
  'email.welcome': EmailWelcomePayload,
  'report.users': ReportUsersPayload,
  'data.process': DataProcessPayload,
  'webhook.deliver': WebhookDeliverPayload,
};

export function isPublicJobType(type: string): type is PublicJobType {
  return (JOB_TYPES as readonly string[]).includes(type);
}

/** The payload as its type's DTO, or a 400 naming each bad field (`payload.items.0`, ...). */
export async function validatePayload(type: PublicJobType, payload: unknown): Promise<object> {
  if (payload === undefined) payload = {};
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new ValidationFailed([{ field: 'payload', message: 'payload must be an object' }]);
  }
  const instance = plainToInstance(PAYLOAD_CLASSES[type], payload);
  const errors = await validate(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
  });
  if (errors.length > 0) throw new ValidationFailed(toFieldErrors(errors, 'payload'));
  return instance;
}
