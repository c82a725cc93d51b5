import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1795626252689 implements MigrationInterface {
  name = 'CreateUsers1795626252689';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" character varying(254) NOT NULL,
        "name" character varying(100) NOT NULL,
        "role" character varying(16) NOT NULL DEFAULT 'user',
        "password_hash" character varying(255) NOT NULL,
        "is_active" boolean NOT NULL DEFAULT true,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_login_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "users_role_check" CHECK ("role" IN ('admin', 'user', 'guest'))
      )`);
    // Emails are unique whatever their case.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "users_email_lower_key" ON "users" (lower("email"))`,
    );
    await queryRunner.query(`CREATE INDEX "users_role_idx" ON "users" ("role")`);
    // Keyset (cursor) pagination and the default sort walk this index.
    await queryRunner.query(
      `CREATE INDEX "users_created_at_id_idx" ON "users" ("created_at", "id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
