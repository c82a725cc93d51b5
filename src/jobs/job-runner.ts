import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { performance } from 'node:perf_hooks';
import { Counter, Histogram } from 'prom-client';
import { Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { MetricsService } from '../common/metrics/metrics.service';
import { JobEvents } from './job-events';
import { JobDelivery, JobQueue, PermanentJobError } from './job-queue';
import { JobStatements } from './job-statements';
import { JobType } from './job-types';
import { Job } from './job.entity';
import { JobProcessor } from './processors/job-processor';

export const JOB_PROCESSORS = Symbol('JOB_PROCESSORS');

const MAX_ERROR_LENGTH = 1000;
/** Queued rows due this long ago are put in the queue again (a crash between insert and add). */
const LOST_AFTER_MS = 60_000;
const RECOVERY_BATCH = 1000;

interface ClaimedJob {
  id: string;
  type: JobType;
  payload: unknown;
  ownerId: string;
  createdAt: Date;
  attempts: number;
  maxAttempts: number;
}

type ClaimedRow = Omit<ClaimedJob, 'createdAt'> & { createdAt: Date | string };

const CLAIMED_COLUMNS =
  'id, type, payload, owner_id AS "ownerId", created_at AS "createdAt", attempts, max_attempts AS "maxAttempts"';

/*
 * Every delivery runs these two statements, so they are plain SQL, prepared (JobStatements):
 * the query builder and PostgreSQL's planning cost more CPU than the updates themselves.
 * Both commit without waiting for the WAL flush (synchronous_commit off for their own
 * transaction only). Delivery is at least once anyway: a claim or an outcome lost in a
 * PostgreSQL crash (the last fraction of a second of commits) leaves the row queued or active,
 * and the job runs again (recover() puts active rows back in the queue), as after a worker
 * crash. The API's INSERT, which tells a client that the job exists, stays durable.
 */
const CLAIM = `
  UPDATE jobs
  SET status = 'active', attempts = attempts + 1, started_at = COALESCE(started_at, now())
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
  WHERE id = $1 AND status IN ('queued', 'active') AND attempts < max_attempts
  RETURNING ${CLAIMED_COLUMNS}`;

const COMPLETE = `
  UPDATE jobs
  SET status = 'completed', result = $2, progress = 100, error = NULL, finished_at = now()
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
  WHERE id = $1 AND status = 'active'`;

/**
 * Runs one delivery of a job: claims the row (queued → active), calls the type's processor,
 * records the outcome and publishes it. The row decides: a cancelled, finished or unknown job
 * is skipped, so a duplicate delivery does no harm.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger('Jobs');
  private readonly processors: Map<JobType, JobProcessor>;
  private readonly finished: Counter<'type' | 'status'>;
  private readonly duration: Histogram<'type' | 'status'>;

  constructor(
    @InjectRepository(Job) private readonly jobs: Repository<Job>,
    private readonly statements: JobStatements,
    private readonly queue: JobQueue,
    private readonly events: JobEvents,
    @Inject(JOB_PROCESSORS) processors: JobProcessor[],
    metrics: MetricsService,
  ) {
    this.processors = new Map(processors.map((processor) => [processor.type, processor]));
    this.finished = metrics.counter({
      name: 'jobs_processed_total',
      help: 'Job attempts run by this process, by type and outcome (completed, failed, retrying).',
      labelNames: ['type', 'status'],
    });
    this.duration = metrics.histogram({
      name: 'job_duration_seconds',
      help: 'Job attempt duration in seconds, by type and outcome.',
      labelNames: ['type', 'status'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300],
    });
  }

  readonly run = async (delivery: JobDelivery): Promise<void> => {
    const job = await this.claim(delivery.id);
    if (!job) return;
    // The row counts every delivery, crashed ones included, so it decides what is the last one.
    const finalAttempt = delivery.finalAttempt || job.attempts >= job.maxAttempts;
    const processor = this.processors.get(job.type);
    const started = performance.now();
    let progress = 0;
    try {
      if (!processor) throw new PermanentJobError(`No processor for job type ${job.type}.`);
      const result = await processor.process(job.payload as never, {
        id: job.id,
        ownerId: job.ownerId,
        createdAt: job.createdAt,
        attempt: job.attempts,
        progress: async (percent: number) => {
          const value = Math.max(0, Math.min(100, Math.floor(percent)));
          if (value <= progress) return;
          progress = value;
          await this.jobs.update({ id: job.id, status: 'active' }, { progress: value });
          await this.events.publish({
            name: 'job.progress',
            ownerId: job.ownerId,
            data: { id: job.id, type: job.type, progress: value },
          });
        },
      });
      await this.statements.run('jobs.complete', COMPLETE, [
        job.id,
        result == null ? null : JSON.stringify(result),
      ]);
      this.record(job, 'completed', started);
      await this.events.publish({
        name: 'job.completed',
        ownerId: job.ownerId,
        data: { id: job.id, type: job.type, result },
      });
    } catch (error) {
      const final = finalAttempt || error instanceof PermanentJobError;
      const message = errorMessage(error);
      await this.jobs.update(
        { id: job.id, status: 'active' },
        final
          ? { status: 'failed', error: message, finishedAt: () => 'now()' }
          : { status: 'queued', error: message },
      );
      this.record(job, final ? 'failed' : 'retrying', started, message);
      if (final) {
        await this.events.publish({
          name: 'job.failed',
          ownerId: job.ownerId,
          data: { id: job.id, type: job.type, error: message, attempts: job.attempts },
        });
      }
      throw error;
    }
  };

  /**
   * Puts rows back in the queue that it may have lost: active rows (a crashed process's, or one
   * Bull dropped after too many stalls) and queued rows long due; at start, every queued row.
   * Adding an id the queue still holds does nothing.
   */
  async recover(atStart: boolean): Promise<number> {
    const rows = await this.jobs
      .createQueryBuilder('j')
      .select(['j.id', 'j.priority', 'j.maxAttempts', 'j.attempts', 'j.runAt'])
      .where(
        atStart
          ? `j.status IN ('queued', 'active')`
          : `j.status = 'active' OR (j.status = 'queued' AND j.runAt < :due)`,
        { due: new Date(Date.now() - LOST_AFTER_MS) },
      )
      .orderBy('j.createdAt', 'ASC')
      .take(RECOVERY_BATCH)
      .getMany();
    for (const row of rows) {
      await this.queue.add({
        id: row.id,
        delayMs: Math.max(0, row.runAt.getTime() - Date.now()),
        priority: row.priority,
        attempts: Math.max(1, row.maxAttempts - row.attempts),
      });
    }
    return rows.length;
  }

  /**
   * queued (or active: a crashed delivery) → active, one attempt more; null if not runnable. A
   * job whose attempts all ended in crashes (a poison job taking its worker down) fails instead.
   */
  private async claim(id: string): Promise<ClaimedJob | null> {
    const { rows } = await this.statements.run<ClaimedRow>('jobs.claim', CLAIM, [id]);
    if (rows[0]) return claimedJob(rows[0]);
    const message = 'The job was interrupted on every attempt (its worker stopped); not retried.';
    const exhausted = await this.updateReturning(id, `status = 'active'`, {
      status: 'failed',
      error: message,
      finishedAt: () => 'now()',
    });
    if (exhausted) {
      this.record(exhausted, 'failed', performance.now(), message);
      await this.events.publish({
        name: 'job.failed',
        ownerId: exhausted.ownerId,
        data: { id, type: exhausted.type, error: message, attempts: exhausted.attempts },
      });
    }
    return null;
  }

  private async updateReturning(
    id: string,
    condition: string,
    changes: QueryDeepPartialEntity<Job>,
  ): Promise<ClaimedJob | null> {
    const { raw } = (await this.jobs
      .createQueryBuilder()
      .update(Job)
      .set(changes)
      .where(`id = :id AND ${condition}`, { id })
      .returning(CLAIMED_COLUMNS)
      .execute()) as { raw: ClaimedRow[] };
    return raw[0] ? claimedJob(raw[0]) : null;
  }

  private record(job: ClaimedJob, status: string, started: number, error?: string): void {
    const seconds = (performance.now() - started) / 1000;
    this.finished.inc({ type: job.type, status });
    this.duration.observe({ type: job.type, status }, seconds);
    const line = {
      jobId: job.id,
      type: job.type,
      status,
      attempt: job.attempts,
      durationMs: Math.round(seconds * 1000),
    };
    if (error) this.logger.warn({ ...line, error }, 'job attempt failed');
    else this.logger.log(line, 'job completed');
  }
}

function claimedJob(row: ClaimedRow): ClaimedJob {
  return { ...row, createdAt: new Date(row.createdAt) };
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}
