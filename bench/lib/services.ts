import Redis from 'ioredis';
import { execFile } from 'node:child_process';
import { Client } from 'pg';
import { DATA_SOURCE, ROOT, TYPEORM_CLI } from './paths';

/** The harness drops and creates this database: its name must say so. */
function assertBenchName(name: string): void {
  if (!/^[a-z0-9_]*bench[a-z0-9_]*$/.test(name)) {
    throw new Error(`refusing to drop or create "${name}": a bench database name contains "bench"`);
  }
}

/** The URL of database `name` on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function recreateDatabase(adminUrl: string, name: string): Promise<void> {
  assertBenchName(name);
  await withAdmin(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  });
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  assertBenchName(name);
  await withAdmin(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
}

/** `migration:run` as a release step runs it: the TypeORM CLI on the built data source. */
export function runMigrations(env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [TYPEORM_CLI, 'migration:run', '-d', DATA_SOURCE],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`migration:run failed:\n${stderr}\n${stdout}`)) : resolve(),
    );
  });
}

/** Jobs not yet completed or failed: the worker's backlog. */
export async function unfinishedJobs(url: string): Promise<number> {
  return withAdmin(url, async (client) => {
    const { rows } = await client.query<{ count: number }>(
      `SELECT CAST(count(*) AS int) AS count FROM jobs WHERE status IN ('queued', 'active')`,
    );
    return rows[0].count;
  });
}

/** Deletes every key under `prefix` (SCAN, never KEYS); returns how many there were. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  if (prefix.length < 8)
    throw new Error(`refusing to delete keys under the short prefix "${prefix}"`);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const glob = prefix.replace(/[*?[\]\\]/g, '\\$&');
  let deleted = 0;
  try {
    const stream = redis.scanStream({ match: `${glob}*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
