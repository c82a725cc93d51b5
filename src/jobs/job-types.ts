/** Job types a client may create through POST /v1/jobs. */
export const JOB_TYPES = [
  'email.welcome',
  'report.users',
  'data.process',
  'webhook.deliver',
] as const;
/** Job types only Keel itself creates (an inbound webhook's processing). */
export const INTERNAL_JOB_TYPES = ['webhook.process'] as const;

export type PublicJobType = (typeof JOB_TYPES)[number];
export type JobType = PublicJobType | (typeof INTERNAL_JOB_TYPES)[number];
