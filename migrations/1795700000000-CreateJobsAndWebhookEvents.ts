import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJobsAndWebhookEvents1795700000000 implements MigrationInterface {
  name = 'CreateJobsAndWebhookEvents1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "jobs" (
        "id" uuid NOT NULL,
        "type" character varying(32) NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'queued',
        "payload" jsonb NOT NULL,
        "result" jsonb,
        "error" text,
        "progress" smallint NOT NULL DEFAULT 0,
        "attempts" integer NOT NULL DEFAULT 0,
        "max_attempts" integer NOT NULL,
        "priority" smallint,
        "owner_id" uuid NOT NULL,
        "idempotency_key" character varying(320),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "run_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "jobs_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "jobs_status_check" CHECK ("status" IN ('queued', 'active', 'completed', 'failed', 'cancelled')),
        CONSTRAINT "jobs_progress_check" CHECK ("progress" BETWEEN 0 AND 100),
        CONSTRAINT "jobs_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    // A user's jobs newest first; everyone's (admins); by status (dead-letter list, recovery).
    await queryRunner.query(
      `CREATE INDEX "jobs_owner_id_created_at_idx" ON "jobs" ("owner_id", "created_at", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "jobs_created_at_id_idx" ON "jobs" ("created_at", "id")`);
    await queryRunner.query(
      `CREATE INDEX "jobs_status_created_at_idx" ON "jobs" ("status", "created_at")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "jobs_idempotency_key_key" ON "jobs" ("idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE "webhook_events" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "source" character varying(64) NOT NULL,
        "external_id" character varying(200),
        "headers" jsonb NOT NULL,
        "payload" jsonb NOT NULL,
        "owner_id" uuid NOT NULL,
        "job_id" uuid,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "processed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "webhook_events_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE,
        CONSTRAINT "webhook_events_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE SET NULL
      )`);
    // X-Event-Id dedupe per source.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "webhook_events_source_external_id_key" ON "webhook_events" ("source", "external_id") WHERE "external_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_events_source_created_at_idx" ON "webhook_events" ("source", "created_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_events"`);
    await queryRunner.query(`DROP TABLE "jobs"`);
  }
}
