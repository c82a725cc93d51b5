import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Job } from '../jobs/job.entity';
import { User } from '../users/user.entity';

/** An inbound webhook as received: stored first, then processed by a `webhook.process` job. */
@Entity('webhook_events')
@Index('webhook_events_owner_id_source_external_id_key', { synchronize: false })
@Index('webhook_events_source_created_at_idx', ['source', 'createdAt'])
export class WebhookEvent {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_events_pkey' })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  source!: string;

  /** The sender's X-Event-Id: a repeat from the same owner and source is the same event. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  externalId!: string | null;

  /** The headers worth keeping (content type, user agent, event id, signatures), never credentials. */
  @Column({ type: 'jsonb' })
  headers!: Record<string, string>;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  /** The owner of the API key that delivered it; owns the processing job. */
  @Column({ type: 'uuid' })
  ownerId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'webhook_events_owner_id_fkey' })
  owner?: User;

  @Column({ type: 'uuid', nullable: true })
  jobId!: string | null;

  @ManyToOne(() => Job, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'webhook_events_job_id_fkey' })
  job?: Job;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  processedAt!: Date | null;
}
