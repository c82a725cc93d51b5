import { MigrationInterface, QueryRunner } from 'typeorm';

export class ScopeWebhookEventIdsBySender1795705554182 implements MigrationInterface {
  name = 'ScopeWebhookEventIdsBySender1795705554182';

  async up(queryRunner: QueryRunner): Promise<void> {
    // X-Event-Id dedupe per sender (the API key's owner) and source: a sender's ids are its own,
    // and anyone holding a webhooks:write key must not be able to claim another sender's.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "webhook_events_owner_id_source_external_id_key" ON "webhook_events" ("owner_id", "source", "external_id") WHERE "external_id" IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX "webhook_events_source_external_id_key"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Two senders may now share a (source, X-Event-Id). The earliest keeps it; the others keep
    // their rows and the id in their stored headers, but no longer dedupe by it.
    await queryRunner.query(`
      UPDATE "webhook_events" AS e SET "external_id" = NULL
       WHERE "external_id" IS NOT NULL
         AND EXISTS (
           SELECT 1 FROM "webhook_events" AS first
            WHERE first."source" = e."source"
              AND first."external_id" = e."external_id"
              AND (first."created_at", first."id") < (e."created_at", e."id"))`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "webhook_events_source_external_id_key" ON "webhook_events" ("source", "external_id") WHERE "external_id" IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX "webhook_events_owner_id_source_external_id_key"`);
  }
}
