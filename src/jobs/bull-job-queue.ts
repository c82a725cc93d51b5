import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Job as BullJob, Queue } from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { JobHandler, JobQueue, PermanentJobError, QueueCounts, QueuedJob } from './job-queue';

export const JOBS_QUEUE = 'jobs';

export type BullConnection = 'client' | 'subscriber' | 'bclient';

/**
 * Bull's connections. The command connection fails fast (no offline queue, 1 s command timeout),
 * so enqueueing while Redis is down is a 503 at once, not a hung request. The blocking and
 * subscriber connections wait and retry, as Bull requires.
 */
export function createBullClient(url: string, type: BullConnection): Redis {
  const options: RedisOptions =
    type === 'client'
      ? {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          commandTimeout: 1000,
          connectTimeout: 2000,
        }
      : { enableReadyCheck: false, maxRetriesPerRequest: null };
  const client = new Redis(url, options);
  client.on('error', () => undefined); // the shared client logs outages
  if (type === 'bclient') {
    // To stop waiting for jobs (pause, close), Bull reconnects this connection and leaves the
    // promise unhandled until the running jobs finish (Bull 4.16, whenCurrentJobsFinished): with
    // Redis down, or the connection closed by the shutdown meanwhile, its rejection would end the
    // process. The connection retries by itself, so a failed attempt is not an error here.
    const connect = client.connect.bind(client);
    client.connect = (callback) => connect(callback).catch(() => undefined);
  }
  return client;
}

/** Services mode: Bull on Redis; any number of API and worker processes share the queue. */
@Injectable()
export class BullJobQueue extends JobQueue implements OnApplicationShutdown {
  private readonly logger = new Logger('JobQueue');

  constructor(@InjectQueue(JOBS_QUEUE) private readonly queue: Queue) {
    super();
    // Bull re-emits its connections' errors; the connections report outages themselves.
    queue.on('error', () => undefined);
    // process() names the blocking connection (CLIENT SETNAME, for CLIENT LIST) and drops the
    // promise (Bull 4.16, lib/worker.js): a shutdown while the reply is due rejects it unhandled,
    // which would end the process. The name is cosmetic; a failure is ignored.
    const setWorkerName = queue.setWorkerName.bind(queue);
    queue.setWorkerName = () => setWorkerName().catch(() => undefined);
    // @nestjs/bull gives the queue a shutdown hook that closes it waiting for the running jobs,
    // with no bound. Waiting, within SHUTDOWN_TIMEOUT_MS, is stop()'s part; the close does not.
    (queue as Queue & { onApplicationShutdown(): Promise<void> }).onApplicationShutdown = () =>
      queue.close(true).catch(() => undefined);
  }

  async add(job: QueuedJob): Promise<void> {
    await this.queue.add(
      { id: job.id },
      {
        jobId: job.id,
        delay: job.delayMs,
        attempts: job.attempts,
        ...(job.priority === null ? {} : { priority: job.priority }),
      },
    );
  }

  async remove(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    // A job a worker holds is locked and stays; the processor skips it (its row is not queued).
    await job?.remove().catch(() => undefined);
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.queue.getJobCounts();
    return {
      waiting: counts.waiting,
      active: counts.active,
      delayed: counts.delayed,
    };
  }

  process(concurrency: number, handler: JobHandler): void {
    void this.queue
      .process(concurrency, async (job: BullJob<{ id: string }>) => {
        const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        try {
          await handler({ id: job.data.id, finalAttempt });
        } catch (error) {
          if (error instanceof PermanentJobError) void job.discard();
          throw error;
        }
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'job processing stopped'));
  }

  async stop(timeoutMs: number): Promise<void> {
    // Local pause: this process takes no more jobs; waits for the running ones.
    const drained = this.queue.pause(true, false).then(() => true);
    const finished = await Promise.race([drained, delay(timeoutMs, false)]);
    if (!finished) {
      // Their locks expire and another worker runs them again (stalled-job recovery).
      this.logger.warn(`jobs still running after ${timeoutMs} ms; releasing them`);
    }
  }

  /** Closes the queue's connections; ours are made by createClient, so Bull does not close them. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close(true).catch(() => undefined);
    // Bull's connection getters create a connection when first read, so only read created ones.
    const queue = this.queue as unknown as Record<string, boolean | Redis | undefined>;
    for (const [type, client] of [
      ['client', 'client'],
      ['subscriber', 'eclient'],
      ['bclient', 'bclient'],
    ]) {
      if (queue[`${type}Initialized`]) (queue[client] as Redis).disconnect();
    }
  }
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
