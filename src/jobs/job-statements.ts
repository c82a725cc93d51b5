import { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppConfig } from '../config/app-config';

/**
 * Runs the statements every job repeats (its insert, each delivery's claim and outcome) on the
 * data source's connection pool. Named, each connection parses and plans a statement once:
 * planning a single-row statement on `jobs` costs PostgreSQL more CPU than running it. PGlite's
 * socket server shares one backend between connections, where a reconnecting client would find
 * the name taken, so there they run unnamed.
 */
export class JobStatements {
  private readonly pool: Pool;

  constructor(
    dataSource: DataSource,
    private readonly named: boolean,
  ) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  run<T extends QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<QueryResult<T>> {
    return this.pool.query<T>({ name: this.named ? name : undefined, text, values });
  }
}

/** Named statements on PostgreSQL, unnamed on embedded PGlite. */
export const jobStatementsProvider: Provider = {
  provide: JobStatements,
  inject: [DataSource, ConfigService],
  useFactory: (dataSource: DataSource, config: ConfigService<AppConfig, true>) =>
    new JobStatements(dataSource, config.get('database', { infer: true }).url !== undefined),
};
