import { JobPayloads, JobResults } from '../job-payloads';
import { JobType } from '../job-types';

/** What a processor knows of the job it runs, and how it reports progress. */
export interface JobContext {
  id: string;
  ownerId: string;
  createdAt: Date;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Records progress (0-100) and tells the owner; lower or repeated values are ignored. */
  progress(percent: number): Promise<void>;
}

/**
 * Runs one job type. Delivery is at least once (a retry, a crashed worker), so a processor must
 * be safe to run twice for the same job id.
 */
export abstract class JobProcessor<T extends JobType = JobType> {
  abstract readonly type: T;
  abstract process(payload: JobPayloads[T], context: JobContext): Promise<JobResults[T]>;
}
