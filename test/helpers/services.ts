import Redis from 'ioredis';
import { Client } from 'pg';

/** In CI the real services are required: a missing one fails the run instead of skipping. */
export const IN_CI = process.env.CI === 'true';

const POSTGRES_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let postgres: Promise<string | undefined> | undefined;
let redis: Promise<string | undefined> | undefined;

/** A URL to create test databases with, or undefined (embedded mode) when none answers outside CI. */
export function postgresAdminUrl(): Promise<string | undefined> {
  postgres ??= probe('PostgreSQL', POSTGRES_ADMIN_URL, async () => {
    const client = new Client({
      connectionString: POSTGRES_ADMIN_URL,
      connectionTimeoutMillis: 2000,
    });
    await client.connect();
    await client.end();
  });
  return postgres;
}

/** The Redis URL for services-mode tests, or undefined (in-process mode) when none answers outside CI. */
export function redisUrl(): Promise<string | undefined> {
  redis ??= probe('Redis', REDIS_URL, async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  });
  return redis;
}

async function probe(
  name: string,
  url: string,
  check: () => Promise<void>,
): Promise<string | undefined> {
  try {
    await check();
    return url;
  } catch (error) {
    if (IN_CI) {
      throw new Error(`${name} is required in CI but ${url} does not answer`, { cause: error });
    }
    return undefined;
  }
}
