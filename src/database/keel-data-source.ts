import { join } from 'node:path';
import { DataSource, DataSourceOptions, Migration } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { EmbeddedPostgres } from './embedded-postgres';
import { SnakeNamingStrategy } from './snake-naming.strategy';

type DatabaseConfig = AppConfig['database'];

/** Any fixed number; all Keel processes agree on it. */
const MIGRATION_LOCK_KEY = 7_316_001;

/**
 * A DataSource that applies migrations under a PostgreSQL advisory lock (instances that boot
 * together migrate once) and, in embedded mode, owns the PGlite server it connects to.
 */
export class KeelDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    private readonly embedded?: EmbeddedPostgres,
  ) {
    super(options);
  }

  override async runMigrations(
    options?: Parameters<DataSource['runMigrations']>[0],
  ): Promise<Migration[]> {
    // An embedded database has one owner (the data directory's pid lock) and one connection.
    if (this.embedded) return super.runMigrations(options);
    const runner = this.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      return await super.runMigrations(options);
    } finally {
      await runner
        .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        .catch(() => undefined);
      await runner.release();
    }
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) await super.destroy();
    } finally {
      await this.embedded?.stop();
    }
  }
}

/**
 * The options shared by the API, the worker and the migration CLI. `requestTimeouts` bound every
 * statement of the API and the worker; the CLI goes without, since a migration may rightly run
 * longer than any request (an index built on a big table).
 */
export function dataSourceOptions(
  url: string,
  poolSize: number,
  { requestTimeouts = true } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    poolSize,
    // A slow, saturated or frozen database fails requests in bounded time instead of holding
    // them: the server cancels a statement at 10 s; the client gives up at 15 s even when the
    // server cannot answer at all, and TCP keepalive finds connections to a vanished host.
    connectTimeoutMS: 5000,
    extra: requestTimeouts
      ? { statement_timeout: 10_000, query_timeout: 15_000, keepAlive: true }
      : { keepAlive: true },
    applicationName: 'keel',
    entities: [join(__dirname, '..', '**', '*.entity.{ts,js}')],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    logging: false,
  };
}

/**
 * The database the configuration names: PostgreSQL at DATABASE_URL, else embedded PGlite
 * (started here). Not yet initialized: the TypeORM CLI initializes it itself.
 */
export async function createDataSource(
  config: DatabaseConfig,
  options: { requestTimeouts?: boolean } = {},
): Promise<KeelDataSource> {
  if (config.url) {
    return new KeelDataSource(dataSourceOptions(config.url, config.poolSize, options));
  }
  const embedded = await EmbeddedPostgres.start({ dataDir: config.dataDir, maxConnections: 4 });
  // One connection: PGlite runs one query at a time anyway, and its socket server interleaves
  // the extended-protocol messages of concurrent connections outside explicit transactions
  // ("portal cannot be run" under load).
  return new KeelDataSource(dataSourceOptions(embedded.url, 1, options), embedded);
}

/** Opens the database, migrating first when `migrate` is set (embedded mode, development, tests). */
export async function openDataSource(
  config: DatabaseConfig,
  migrate: boolean,
): Promise<KeelDataSource> {
  const dataSource = await createDataSource(config);
  try {
    await dataSource.initialize();
    if (migrate) await dataSource.runMigrations({ transaction: 'each' });
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}
