import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { postgresAdminUrl } from './services';

export interface TestDatabase {
  /** The database's URL, or undefined when the suite runs on embedded PGlite (in memory). */
  url?: string;
  drop(): Promise<void>;
}

/** Tests create, use and drop only databases whose name says so. */
export function assertTestDatabaseName(name: string): void {
  if (!/test/i.test(name)) {
    throw new Error(
      `Refusing to touch database "${name}": a test database's name must contain "test".`,
    );
  }
}

/** A fresh, empty database on the real PostgreSQL for one suite (embedded mode if none answers). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = await postgresAdminUrl();
  if (!adminUrl) return { drop: () => Promise.resolve() };
  const name = `keel_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  assertTestDatabaseName(name);
  await admin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropTestDatabase(adminUrl, name),
  };
}

export async function dropTestDatabase(adminUrl: string, name: string): Promise<void> {
  assertTestDatabaseName(name);
  await admin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

async function admin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
