import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { User } from '../users/user.entity';
import { JobStatus } from './job-status';
import { JobType } from './job-types';

/**
 * The source of truth of a job's state; Bull (or the in-process queue) only executes it.
 * The row is written before the job is queued, and a processor starts only from `queued`.
 */
@Entity('jobs')
@Check('jobs_status_check', `"status" IN ('queued', 'active', 'completed', 'failed', 'cancelled')`)
@Check('jobs_progress_check', `"progress" BETWEEN 0 AND 100`)
@Index('jobs_owner_id_created_at_idx', ['ownerId', 'createdAt', 'id'])
@Index('jobs_created_at_id_idx', ['createdAt', 'id'])
@Index('jobs_status_created_at_idx', ['status', 'createdAt'])
@Index('jobs_idempotency_key_key', { synchronize: false })
export class Job {
  /** Also the Bull job id, so queueing the same row twice runs it once. */
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'jobs_pkey' })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: JobType;

  @Column({ type: 'varchar', length: 16, default: 'queued' })
  status!: JobStatus;

  @Column({ type: 'jsonb' })
  payload!: object;

  @Column({ type: 'jsonb', nullable: true })
  result!: object | null;

  /** The last attempt's error; kept when the job is out of attempts (the dead-letter list). */
  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'smallint', default: 0 })
  progress!: number;

  /** Attempts started, stalled ones included. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ type: 'integer' })
  maxAttempts!: number;

  /** 1 runs first; null is the queue's normal order. */
  @Column({ type: 'smallint', nullable: true })
  priority!: number | null;

  /** The delay the job was requested with; null on jobs recorded before it was kept. */
  @Column({ type: 'integer', nullable: true })
  delayMs!: number | null;

  @Column({ type: 'uuid' })
  ownerId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'jobs_owner_id_fkey' })
  owner?: User;

  /** `<principal>:<Idempotency-Key>`: unique per caller (a user's token, or one API key). */
  @Column({ type: 'varchar', length: 320, nullable: true })
  idempotencyKey!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /** When a delayed job becomes due. */
  @Column({ type: 'timestamptz' })
  runAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
