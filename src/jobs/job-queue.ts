/** What the queue needs to run a job row; everything else is read from the row when it runs. */
export interface QueuedJob {
  id: string;
  delayMs: number;
  priority: number | null;
  attempts: number;
}

/** One delivery of a job to a processor. */
export interface JobDelivery {
  id: string;
  /** No retry follows if this attempt fails. */
  finalAttempt: boolean;
}

export type JobHandler = (delivery: JobDelivery) => Promise<void>;

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
}

/** A failure no retry can fix (a refused webhook target): the job fails at once. */
export class PermanentJobError extends Error {}

/**
 * Executes job rows: Bull on Redis in services mode, an in-process queue in embedded mode.
 * Both retry with exponential backoff and hand every attempt to the same handler.
 */
export abstract class JobQueue {
  /** Idempotent per id: adding a job that is already queued does nothing. Throws when unavailable. */
  abstract add(job: QueuedJob): Promise<void>;
  /** Takes a queued job out (cancel); a running or unknown one is left alone. */
  abstract remove(id: string): Promise<void>;
  abstract counts(): Promise<QueueCounts>;
  /** Starts taking jobs, at most `concurrency` at once. */
  abstract process(concurrency: number, handler: JobHandler): void;
  /** Stops taking jobs and waits for the running ones, at most `timeoutMs`. */
  abstract stop(timeoutMs: number): Promise<void>;
}
