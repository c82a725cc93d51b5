import { JobType } from './job-types';

/** What a job's owner is told while it runs (SPEC 15: socket event payloads). */
export interface JobEventMap {
  'job.progress': { id: string; type: JobType; progress: number };
  'job.completed': { id: string; type: JobType; result: unknown };
  'job.failed': { id: string; type: JobType; error: string; attempts: number };
}

export type JobEventName = keyof JobEventMap;

/** One lifecycle event, addressed to the job's owner (null for jobs without an owner). */
export type JobEvent = {
  [K in JobEventName]: { name: K; ownerId: string | null; data: JobEventMap[K] };
}[JobEventName];

/**
 * Carries job lifecycle events from whichever process runs the job (a worker, or the API with an
 * in-process worker) to every API process, whose Socket.IO gateway delivers them to the owner.
 * Redis pub/sub with REDIS_URL, an in-process emitter without.
 */
export abstract class JobEvents {
  /** Best effort: an event lost while Redis is down is logged, never thrown to the job. */
  abstract publish(event: JobEvent): Promise<void>;
  /** Calls the listener for every event published by any process; returns the unsubscribe. */
  abstract subscribe(listener: (event: JobEvent) => void): () => void;
}
