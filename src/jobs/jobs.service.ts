import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { QueryFailedError, Repository } from 'typeorm';
import { Principal } from '../auth/principal';
import {
  Conflict,
  NotFound,
  ServiceUnavailable,
  ValidationFailed,
} from '../common/errors/domain-errors';
import { Page, toPage } from '../common/http/pagination';
import { AppConfig } from '../config/app-config';
import { CreateJobDto } from './dto/create-job.dto';
import { JobAccepted } from './dto/job-accepted.dto';
import { JobResponse, toJobResponse } from './dto/job-response.dto';
import { ListJobsQuery } from './dto/list-jobs.query';
import { JobPayloads, validatePayload } from './job-payloads';
import { JobQueue } from './job-queue';
import { JobStatements } from './job-statements';
import { JOB_STATUSES, JobStatus } from './job-status';
import { JobType } from './job-types';
import { Job } from './job.entity';

const UNIQUE_VIOLATION = '23505';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The row Repository.insert() wrote, as one prepared statement (JobStatements): every enqueue
 * runs it, and the repository's entity-to-SQL path, and PostgreSQL's parsing and planning, cost
 * more CPU than the insert itself. Columns left out (result, error, started_at, finished_at,
 * created_at) take their defaults.
 */
const INSERT_JOB = `
  INSERT INTO jobs (id, type, status, payload, progress, attempts, max_attempts, priority,
                    delay_ms, owner_id, idempotency_key, run_at)
  VALUES ($1, $2, 'queued', $3, 0, 0, $4, $5, $6, $7, $8, $9)`;

interface SubmitOptions {
  delayMs?: number;
  priority?: number | null;
  idempotencyKey?: string | null;
  /** Leave the row queued for the recovery sweep when the queue refuses it, rather than fail. */
  keepIfQueueDown?: boolean;
}

/** Job records and their hand-off to the queue; the worker side is JobRunner. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);
  private readonly attempts: number;

  constructor(
    @InjectRepository(Job) private readonly jobs: Repository<Job>,
    private readonly statements: JobStatements,
    private readonly queue: JobQueue,
    config: ConfigService<AppConfig, true>,
  ) {
    this.attempts = config.get('jobs', { infer: true }).attempts;
  }

  /**
   * POST /v1/jobs. With an Idempotency-Key, the same key from the same caller (a user's token, or
   * one API key) returns the first job; the key with a different request (type, payload, delayMs
   * or priority; an omitted field counts as its default) is 409.
   */
  async create(
    principal: Principal,
    input: CreateJobDto,
    idempotencyKey?: string,
  ): Promise<JobAccepted> {
    const payload = await validatePayload(input.type, input.payload);
    const key = scopedKey(principal, idempotencyKey);
    const same = (job: Job) => {
      const differs =
        job.type !== input.type ||
        !isDeepStrictEqual(job.payload, plain(payload)) ||
        job.priority !== (input.priority ?? null) ||
        // Unknown on jobs recorded before the delay was kept: those compare without it.
        (job.delayMs !== null && job.delayMs !== (input.delayMs ?? 0));
      if (differs) {
        throw new Conflict(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used with a different request.',
        );
      }
      return { id: job.id, status: job.status };
    };
    return this.oncePerKey(key, same, () =>
      this.submit(principal.id, input.type, payload, {
        delayMs: input.delayMs,
        priority: input.priority,
        idempotencyKey: key,
      }),
    );
  }

  /**
   * Jobs Keel queues itself (registration, inbound webhooks); no HTTP validation on this path.
   * Nobody is there to retry: while the queue is down the row stays queued, and the recovery
   * sweep queues it once the queue is back. With a key, a repeat, concurrent or not, returns the
   * first job.
   */
  async enqueue<T extends JobType>(
    ownerId: string,
    type: T,
    payload: JobPayloads[T],
    idempotencyKey?: string,
  ): Promise<JobAccepted> {
    return this.oncePerKey(
      idempotencyKey,
      (job) => ({ id: job.id, status: job.status }),
      () => this.submit(ownerId, type, payload, { idempotencyKey, keepIfQueueDown: true }),
    );
  }

  /**
   * `submit` once per idempotency key: a repeat gets `repeat(the first job)`, and so does the
   * loser of two first requests at once (its insert hits the unique key). No key: `submit`.
   */
  private async oncePerKey(
    key: string | null | undefined,
    repeat: (first: Job) => JobAccepted,
    submit: () => Promise<JobAccepted>,
  ): Promise<JobAccepted> {
    if (key) {
      const existing = await this.jobs.findOneBy({ idempotencyKey: key });
      if (existing) return repeat(existing);
    }
    try {
      return await submit();
    } catch (error) {
      if (key && isUniqueViolation(error)) {
        return repeat(await this.jobs.findOneByOrFail({ idempotencyKey: key }));
      }
      throw error;
    }
  }

  async get(principal: Principal, id: string): Promise<JobResponse> {
    return toJobResponse(await this.findVisible(principal, id));
  }

  /** Own jobs, newest first; admins see everyone's. `?status=failed` is the dead-letter list. */
  async list(principal: Principal, query: ListJobsQuery): Promise<Page<JobResponse>> {
    const builder = this.jobs.createQueryBuilder('j');
    if (principal.role !== 'admin') builder.andWhere('j.ownerId = :owner', { owner: principal.id });
    if (query.status) builder.andWhere('j.status = :status', { status: query.status });
    if (query.type) builder.andWhere('j.type = :type', { type: query.type });
    const [jobs, total] = await builder
      .orderBy('j.createdAt', 'DESC')
      .addOrderBy('j.id', 'DESC')
      .skip((query.page - 1) * query.limit)
      .take(query.limit)
      .getManyAndCount();
    return toPage(jobs.map(toJobResponse), total, query);
  }

  /** Only a queued job can be cancelled; a running or finished one is 409. */
  async cancel(principal: Principal, id: string): Promise<void> {
    const job = await this.findVisible(principal, id);
    const cancelled = await this.transition(id, 'queued', {
      status: 'cancelled',
      finishedAt: () => 'now()',
    });
    if (!cancelled) throw await this.conflict(job, 'cancel');
    await this.queue.remove(id).catch((error: unknown) => {
      this.logger.warn(
        { err: error, jobId: id },
        'cancelled job left in the queue; it will be skipped',
      );
    });
  }

  /** Admins: a failed job runs again with a fresh set of attempts. */
  async retry(id: string): Promise<JobResponse> {
    const job = await this.jobs.findOneBy({ id });
    if (!job) throw new NotFound('Job');
    const requeued = await this.transition(id, 'failed', {
      status: 'queued',
      error: null,
      result: () => 'NULL',
      progress: 0,
      attempts: 0,
      startedAt: null,
      finishedAt: null,
      runAt: () => 'now()',
    });
    if (!requeued) throw await this.conflict(job, 'retry');
    await this.queue.remove(id).catch(() => undefined);
    await this.dispatch(id, { delayMs: 0, priority: job.priority, attempts: job.maxAttempts });
    return toJobResponse(await this.jobs.findOneByOrFail({ id }));
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const rows = await this.jobs
      .createQueryBuilder('j')
      .select('j.status', 'status')
      .addSelect('CAST(count(*) AS int)', 'count')
      .groupBy('j.status')
      .getRawMany<{ status: JobStatus; count: number }>();
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<
      JobStatus,
      number
    >;
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  /** The row first, then the queue: a job is never in the queue without its record. */
  private async submit(
    ownerId: string,
    type: JobType,
    payload: object,
    options: SubmitOptions,
  ): Promise<JobAccepted> {
    const id = randomUUID();
    const delayMs = options.delayMs ?? 0;
    const priority = options.priority ?? null;
    await this.statements.run('jobs.insert', INSERT_JOB, [
      id,
      type,
      JSON.stringify(payload),
      this.attempts,
      priority,
      delayMs,
      ownerId,
      options.idempotencyKey ?? null,
      new Date(Date.now() + delayMs),
    ]);
    await this.dispatch(
      id,
      { delayMs, priority, attempts: this.attempts },
      options.keepIfQueueDown ?? false,
    );
    return { id, status: 'queued' };
  }

  /**
   * A job the queue refused is failed at once (and its key freed), never left queued forever;
   * unless `keep`: then the recovery sweep queues it later.
   */
  private async dispatch(
    id: string,
    options: { delayMs: number; priority: number | null; attempts: number },
    keep = false,
  ): Promise<void> {
    try {
      await this.queue.add({ id, ...options });
    } catch (error) {
      if (keep) {
        this.logger.warn({ err: error, jobId: id }, 'job kept queued: the recovery sweep adds it');
        return;
      }
      this.logger.error({ err: error, jobId: id }, 'job not queued: the queue is unavailable');
      await this.jobs.update(
        { id, status: 'queued' },
        {
          status: 'failed',
          error: 'The job queue was unavailable; the job was not queued.',
          idempotencyKey: null,
          finishedAt: () => 'now()',
        },
      );
      throw new ServiceUnavailable('The job queue is temporarily unavailable; try again shortly.');
    }
  }

  /** Compare-and-set on the status, so a worker and a client never both win. */
  private async transition(
    id: string,
    from: JobStatus,
    changes: Parameters<Repository<Job>['update']>[1],
  ): Promise<boolean> {
    const result = await this.jobs.update({ id, status: from }, changes);
    return (result.affected ?? 0) > 0;
  }

  /** 409 naming the job's status now (it may have moved since it was read). */
  private async conflict(job: Job, action: 'cancel' | 'retry'): Promise<Conflict> {
    const status = (await this.jobs.findOneBy({ id: job.id }))?.status ?? job.status;
    const allowed =
      action === 'cancel' ? 'a queued job can be cancelled' : 'a failed job can be retried';
    return new Conflict('CONFLICT', `The job is ${status}; only ${allowed}.`);
  }

  private async findVisible(principal: Principal, id: string): Promise<Job> {
    const job = await this.jobs.findOneBy({ id });
    if (!job || (principal.role !== 'admin' && job.ownerId !== principal.id)) {
      throw new NotFound('Job');
    }
    return job;
  }
}

/** Per caller: a user's token and each of their API keys are separate key spaces. */
function scopedKey(principal: Principal, key: string | undefined): string | null {
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationFailed([
      {
        field: 'Idempotency-Key',
        message: 'Idempotency-Key must be 1-200 printable ASCII characters without spaces',
      },
    ]);
  }
  const caller = principal.via === 'api-key' ? `key:${principal.apiKeyId}` : `user:${principal.id}`;
  return `${caller}:${key}`;
}

/** The payload as jsonb gives it back, to compare with a stored one: plain JSON, no class instances. */
function plain(payload: object): object {
  return JSON.parse(JSON.stringify(payload)) as object;
}

/** From the repository (wrapped by TypeORM) or a prepared statement (pg's own error). */
function isUniqueViolation(error: unknown): boolean {
  const cause: unknown = error instanceof QueryFailedError ? error.driverError : error;
  return (cause as { code?: unknown } | undefined)?.code === UNIQUE_VIOLATION;
}
