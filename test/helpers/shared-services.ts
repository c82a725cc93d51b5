import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { IN_CI } from './services';

/** The same URLs (and defaults) as services.ts. */
const POSTGRES_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** services.ts's checks (connect to PostgreSQL, PING Redis) as a script for a child process. */
const PROBE = `
const { Client } = require('pg');
const Redis = require('ioredis');
(async () => {
  const pg = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
  await pg.connect();
  await pg.end();
  const redis = new Redis(process.argv[2], { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  try { await redis.connect(); await redis.ping(); } finally { redis.disconnect(); }
})().then(() => process.exit(0), () => process.exit(1));
`;

function servicesAnswer(): boolean {
  if (process.env.KEEL_TEST_MODE === 'embedded') return false;
  // CI requires the services: there a missing one fails the tests instead of skipping them.
  if (IN_CI) return true;
  const probe = spawnSync(process.execPath, ['-e', PROBE, POSTGRES_ADMIN_URL, REDIS_URL], {
    cwd: join(__dirname, '..', '..'),
    timeout: 10_000,
  });
  return probe.status === 0;
}

/**
 * `describe` for tests of several app instances sharing one PostgreSQL database and one Redis,
 * `describe.skip` when the suite runs embedded (PGlite in memory and in-process stores cannot be
 * shared). Jest collects tests synchronously, hence the probe in a child process.
 */
export const describeWithSharedServices = servicesAnswer() ? describe : describe.skip;
