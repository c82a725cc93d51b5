import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessionsValidAfter1795636109967 implements MigrationInterface {
  name = 'AddSessionsValidAfter1795636109967';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Refresh tokens created before it (a password change, deactivation, role change) are over,
    // including one a rotation was creating while the change happened.
    await queryRunner.query(
      `ALTER TABLE "users" ADD COLUMN "sessions_valid_after" TIMESTAMP WITH TIME ZONE`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "sessions_valid_after"`);
  }
}
