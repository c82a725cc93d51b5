import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddJobsDelayMs1795705554183 implements MigrationInterface {
  name = 'AddJobsDelayMs1795705554183';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The delayMs a job was requested with: an Idempotency-Key repeat must ask for the same one.
    // run_at cannot tell it (an admin retry moves it). Unknown (null) for jobs recorded before.
    await queryRunner.query(`ALTER TABLE "jobs" ADD COLUMN "delay_ms" integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "delay_ms"`);
  }
}
