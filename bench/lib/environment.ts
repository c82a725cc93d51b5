import { randomBytes } from 'node:crypto';

/** The bootstrap admin of every benchmark run (its password is the run's own). */
export const ADMIN_EMAIL = 'admin@keel-bench.example';

export interface BenchEnvironment {
  databaseUrl: string;
  redisUrl: string;
  /** Every Redis key of the run lives under it, so cleanup removes exactly the run's keys. */
  redisPrefix: string;
  logLevel: string;
  adminPassword: string;
}

/** The production environment of every Keel process of a run (services mode). */
export function keelEnvironment(bench: BenchEnvironment): Record<string, string> {
  return {
    APP_ENV: 'production',
    NODE_ENV: 'production',
    DATABASE_URL: bench.databaseUrl,
    REDIS_URL: bench.redisUrl,
    REDIS_PREFIX: bench.redisPrefix,
    JWT_SECRET: randomBytes(48).toString('base64'),
    JWT_ACCESS_TTL: '1h',
    WEBHOOK_SIGNING_SECRET: randomBytes(48).toString('base64'),
    CORS_ORIGINS: 'https://app.keel-bench.example',
    LOG_LEVEL: bench.logLevel,
    // On, so their cost is measured, but high enough never to refuse the load.
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_AUTH_MAX: '1000000',
    RATE_LIMIT_HOURLY_MAX: '100000000',
    ADMIN_EMAIL,
    ADMIN_PASSWORD: bench.adminPassword,
    SHUTDOWN_DELAY_MS: '0',
    JOB_CONCURRENCY: '50',
  };
}
