import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs the statements every job delivery repeats, on the data source's connection pool. Named,
 * each connection parses and plans a statement once: planning a single-row UPDATE of `jobs`
 * costs PostgreSQL more CPU than running it. PGlite's socket server shares one backend between
 * connections, where a reconnecting client would find the name taken, so there they run unnamed.
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
