import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../src/config/app-config';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { createDataSource, KeelDataSource, openDataSource } from '../src/database/keel-data-source';
import { assertTestDatabaseName, createTestDatabase, TestDatabase } from './helpers/test-database';

function databaseConfig(overrides: Partial<AppConfig['database']>): AppConfig['database'] {
  return { url: undefined, poolSize: 4, dataDir: 'memory', migrateOnBoot: true, ...overrides };
}

async function tables(dataSource: KeelDataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

describe('Embedded PGlite', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'keel-embedded-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps data written before a restart', async () => {
    const first = await openDataSource(databaseConfig({ dataDir }), true);
    await first.query(
      `INSERT INTO users (email, name, password_hash) VALUES ('kept@example.com', 'Kept', 'x')`,
    );
    await first.destroy();

    const second = await openDataSource(databaseConfig({ dataDir }), true);
    try {
      expect(await second.query(`SELECT email, name FROM users`)).toEqual([
        { email: 'kept@example.com', name: 'Kept' },
      ]);
    } finally {
      await second.destroy();
    }
  });

  it('refuses a second owner of the same data directory', async () => {
    const owner = await EmbeddedPostgres.start({ dataDir, maxConnections: 4 });
    try {
      await expect(EmbeddedPostgres.start({ dataDir, maxConnections: 4 })).rejects.toThrow(
        `is in use by process ${process.pid}`,
      );
    } finally {
      await owner.stop();
    }
    const next = await EmbeddedPostgres.start({ dataDir, maxConnections: 4 });
    await next.stop();
  });

  it('serves concurrent queries and keeps transactions isolated across pooled connections', async () => {
    const dataSource = await openDataSource(databaseConfig({}), true);
    try {
      const runner = dataSource.createQueryRunner();
      await runner.startTransaction();
      await runner.query(
        `INSERT INTO users (email, name, password_hash) VALUES ('tx@example.com', 'Tx', 'x')`,
      );
      const outside = dataSource.query(`SELECT count(*)::int AS n FROM users`);
      await runner.rollbackTransaction();
      await runner.release();
      expect(await outside).toEqual([{ n: 0 }]);
      const counts = await Promise.all(
        Array.from({ length: 8 }, () => dataSource.query(`SELECT count(*)::int AS n FROM users`)),
      );
      expect(counts).toEqual(Array.from({ length: 8 }, () => [{ n: 0 }]));
    } finally {
      await dataSource.destroy();
    }
  });
});

describe('Migrations', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it.each([
    [
      'the test PostgreSQL (or PGlite when none answers)',
      () => databaseConfig({ url: database.url }),
    ],
    ['embedded PGlite', () => databaseConfig({})],
  ])('run, revert completely and run again on %s, matching the entities', async (_name, config) => {
    const dataSource = await openDataSource(config(), false);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      expect(applied.length).toBeGreaterThan(0);
      expect(await tables(dataSource)).toEqual(expect.arrayContaining(['migrations', 'users']));
      expect(await dataSource.showMigrations()).toBe(false);

      for (let i = 0; i < applied.length; i++)
        await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables(dataSource)).toEqual(['migrations']);

      expect(await dataSource.runMigrations({ transaction: 'each' })).toHaveLength(applied.length);
      const drift = await dataSource.driver.createSchemaBuilder().log();
      expect(drift.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('run from the CLI without the statement timeout that bounds every request', async () => {
    const config = databaseConfig({ url: database.url });
    const [app, cli] = await Promise.all([
      createDataSource(config),
      createDataSource(config, { requestTimeouts: false }),
    ]);
    try {
      await Promise.all([app.initialize(), cli.initialize()]);
      const timeout = async (dataSource: KeelDataSource) => {
        const rows =
          await dataSource.query<{ statement_timeout: string }[]>('SHOW statement_timeout');
        return rows[0].statement_timeout;
      };
      expect(await timeout(app)).toBe('10s');
      expect(await timeout(cli)).toBe('0');
    } finally {
      await Promise.all([app.destroy(), cli.destroy()]);
    }
  });

  it('apply once when several instances migrate at the same time', async () => {
    const fresh = await createTestDatabase();
    try {
      const config = databaseConfig({ url: fresh.url });
      const instances = await Promise.all([
        openDataSource(config, false),
        openDataSource(config, false),
      ]);
      if (!fresh.url) {
        // Embedded databases are per process; the lock matters for a shared PostgreSQL.
        await Promise.all(instances.map((instance) => instance.destroy()));
        return;
      }
      const results = await Promise.all(
        instances.map((instance) => instance.runMigrations({ transaction: 'each' })),
      );
      expect(results.map((applied) => applied.length).sort()).toEqual([0, results.flat().length]);
      await Promise.all(instances.map((instance) => instance.destroy()));
    } finally {
      await fresh.drop();
    }
  });
});

describe(assertTestDatabaseName.name, () => {
  it('refuses a database whose name does not say test', () => {
    expect(() => assertTestDatabaseName('keel')).toThrow('must contain "test"');
    expect(() => assertTestDatabaseName('production_copy')).toThrow();
    expect(() => assertTestDatabaseName('keel_test_1')).not.toThrow();
  });
});
