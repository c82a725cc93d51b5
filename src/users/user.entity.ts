import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Role } from './role';

// Indexes TypeORM cannot express are declared so it leaves them alone; migrations own them.
@Entity('users')
@Check('users_role_check', `"role" IN ('admin', 'user', 'guest')`)
@Index('users_email_lower_key', { synchronize: false })
@Index('users_search_trgm_idx', { synchronize: false })
@Index('users_role_idx', ['role'])
@Index('users_created_at_id_idx', ['createdAt', 'id'])
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id!: string;

  /** Stored trimmed and lower-cased; unique on lower(email). */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role!: Role;

  /** argon2id; never leaves the service. */
  @Column({ type: 'varchar', length: 255 })
  passwordHash!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;

  /** Sessions (refresh tokens) created before this moment are over; set with clock_timestamp(). */
  @Column({ type: 'timestamptz', nullable: true })
  sessionsValidAfter!: Date | null;
}
